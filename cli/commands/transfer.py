"""`ariane transfer`: hand a caseload, or part of it, to another structure or counsellor from a date.

It reads the caller's caseload from followup (`GET /v1/caseload`, the people its key's structure, or one of
its counsellors, holds now), then sends one `caseload.transferred` per person to intake, in batches, all
sharing one transfer id. Event ids derive from the transfer id and the person, so running the same command
again (after a timeout, say) sends the same events, which intake answers as duplicates: nothing is moved twice.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

import httpx
import typer

from cli.api_client import client, get
from cli.commands.worklist import DEFAULT_URL as FOLLOWUP_URL
from contracts.caseload import CaseloadTransferred
from contracts.vocabulary import TransferReason
from services.web.transfer_event import batches, transfer_event

INTAKE_URL = "http://127.0.0.1:8101"


def transfer(to: str = typer.Option(..., "--to", help="The structure taking over (may be your own)."),
             on: datetime = typer.Option(..., "--on", formats=["%Y-%m-%d"], help="The day it takes effect."),
             reason: TransferReason = typer.Option(..., help="Why the caseload changes hands."),
             from_counsellor: str = typer.Option(None, help="Only this counsellor's people (default: the whole "
                                                 "structure's)."),
             to_counsellor: str = typer.Option(None, help="The counsellor taking over, if named."),
             person: list[str] = typer.Option(None, "--person", help="Only these people (repeat); each must be in "
                                              "the caseload."),
             note: str = typer.Option(None, help="A few words more (never an identity)."),
             transfer_id: str = typer.Option(None, help="Reuse an id to resend the same transfer."),
             dry_run: bool = typer.Option(False, help="Only list who would be moved."),
             followup_url: str = typer.Option(None, help="Followup's address (default: ARIANE_FOLLOWUP_URL)."),
             intake_url: str = typer.Option(None, help="Intake's address (default: ARIANE_INTAKE_URL)."),
             token: str = typer.Option(None, "--token", help="Your access key (default: ARIANE_TOKEN).")) -> None:
    """Hand people over from a date; prints the transfer id and how many people moved."""
    with client(followup_url, "ARIANE_FOLLOWUP_URL", FOLLOWUP_URL, token) as api:
        structure, held = _caseload(api, from_counsellor)
    chosen = held if not person else [p for p in held if p in set(person)]
    missing = sorted(set(person or ()) - set(held))
    if missing:
        typer.echo(f"error: not in the caseload of {structure}: {', '.join(missing)}", err=True)
        raise typer.Exit(1)
    tid = transfer_id or f"tr-{on:%Y%m%d}-{secrets.token_hex(4)}"
    typer.echo(f"{tid}: {len(chosen)} people from {structure}{'/' + from_counsellor if from_counsellor else ''} "
               f"to {to}{'/' + to_counsellor if to_counsellor else ''} on {on:%Y-%m-%d} ({reason.value})")
    if dry_run or not chosen:
        for p in chosen:
            typer.echo(f"  {p}")
        return
    # The page's transfer form builds its events with the same function: both send the same ids for a transfer.
    sent_at = datetime.now(timezone.utc)
    events = [transfer_event(tid, p, structure, from_counsellor, to, to_counsellor, on.date(), reason, note, sent_at)
              for p in chosen]
    with client(intake_url, "ARIANE_INTAKE_URL", INTAKE_URL, token) as api:
        refused = _send(api, events)
    if refused:
        for line in refused:
            typer.echo(f"  refused: {line}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(events)} people handed over")


def _caseload(api: httpx.Client, counsellor: str | None) -> tuple[str, list[str]]:
    params = {"counsellor": counsellor} if counsellor else {}
    people, page = [], 1
    while True:
        body = get(api, "/v1/caseload", {**params, "page": page, "page_size": 1000})
        people += [item["person_id"] for item in body["items"]]
        if page * body["page_size"] >= body["total"]:
            return body["structure"], sorted(set(people))
        page += 1


def _send(api: httpx.Client, events: list[CaseloadTransferred]) -> list[str]:
    refused = []
    for body in batches(events):
        answer = api.post("/v1/events", content=body,
                             headers={"Content-Type": "application/cloudevents-batch+json"})
        if answer.status_code not in (202, 409, 422) or "results" not in answer.text:
            typer.echo(f"error: intake answered {answer.status_code}: {answer.text[:500]}", err=True)
            raise typer.Exit(2)
        refused += [f"{item['id']}: {item.get('reason')} {item.get('detail') or ''}".strip()
                    for item in answer.json()["results"] if item["status"] not in ("accepted", "duplicate")]
    return refused
