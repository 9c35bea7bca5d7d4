"""`ariane worklist` and `ariane timeline`: what a structure must do today, and one person's history.

Both read followup's API with the caller's own access key (`--token` or ARIANE_TOKEN), so the answer is what
that key may see. A table fits the terminal it is printed on; piped into a file or another command it is
never cut.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import typer

from cli.api_client import check_format, client, get, print_items

DEFAULT_URL = "http://127.0.0.1:8103"
KIND_LABELS = {"lost": "perdu de vue", "at_risk": "à risque", "checkin_missed": "suivi manqué",
               "checkin_due": "suivi dû", "referral_expiring": "orientation à échéance"}
TABLE_COLUMNS = (("Dossier", "who"), ("Quoi", "what"), ("Répondre à", "answer_id"), ("Depuis", "since"),
                 ("Jours", "days"), ("Structure", "structure_id"), ("Attendu", "expected"))
UNCUT = ("who", "since", "days")
CSV_COLUMNS = ("person_id", "structure_id", "file_number", "kind", "answer_id", "reason", "expected", "since",
               "days", "timeline_url")

_url = typer.Option(None, "--url", help="Followup's address (default: ARIANE_FOLLOWUP_URL, else the local one).")
_token = typer.Option(None, "--token", help="Your access key (default: ARIANE_TOKEN).")


def worklist(structure: str = typer.Option(None, help="A structure id (the coordinator's key sees them all)."),
             kind: str = typer.Option(None, help="Only lines of this kind: " + ", ".join(KIND_LABELS) + "."),
             search: str = typer.Option(None, "--search", "-q", help="A file number, an id to answer, or the "
                                        "start of a person id."),
             output: str = typer.Option("table", "--format", help="table, csv or json."),
             url: str = _url, token: str = _token) -> None:
    """Print a worklist: who to call, why, since when, and the id to answer."""
    check_format(output)
    params = {k: v for k, v in (("structure", structure), ("kind", kind), ("q", search)) if v}
    with followup_client(url, token) as api:
        items = list(_all_lines(api, params))
    print_items(items, output, CSV_COLUMNS, render_table)


def timeline(person_id: str = typer.Argument(..., help="The person's id, as a worklist line gives it."),
             output: str = typer.Option("table", "--format", help="table or json."),
             url: str = _url, token: str = _token) -> None:
    """Print one person's dated history: holds, referrals, dispositifs, jobs, check-ins, alerts."""
    with followup_client(url, token) as api:
        answer = get(api, f"/v1/people/{person_id}/timeline")
    if output == "json":
        typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    number = f" — dossier {answer['file_number']}" if answer.get("file_number") else ""
    typer.echo(f"{answer['person_id']}{number}: {answer['state']}"
               + (f" depuis le {answer['since']}" if answer.get("since") else "")
               + (f", {answer['structure_to_act']} doit agir" if answer.get("structure_to_act") else ""))
    for entry in answer["entries"]:
        who = f" [{entry['structure_id']}]" if entry.get("structure_id") else ""
        ref = f" ({entry['ref']})" if entry.get("ref") else ""
        rule = f"\n             règle : {entry['rule']}" if entry.get("rule") else ""
        typer.echo(f"  {entry['day']}  {entry['label']}{ref}{who}{rule}")


def render_table(items: Sequence[dict[str, Any]], width: int | None) -> str:
    """Worklist lines as an aligned table. With a `width`, the widest columns are cut (with "…") until the
    table fits; with None (output piped), nothing is ever cut."""
    if not items:
        return "Aucune ligne : personne n'attend d'action."
    rows = [[_cell(item, key) for _title, key in TABLE_COLUMNS] for item in items]
    titles = [title for title, _key in TABLE_COLUMNS]
    widths = [max(len(titles[i]), *(len(r[i]) for r in rows)) for i in range(len(titles))]
    if width is not None:  # a file number, a date or a count cut would be wrong, not short: never cut them
        floors = [w if key in UNCUT else min(len(t), w) for (t, key), w in zip(TABLE_COLUMNS, widths, strict=True)]
        widths = _fit(widths, floors, width - 2 * (len(titles) - 1))
    lines = ["  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True)).rstrip()]
    lines += ["  ".join(_cut(c, w).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + f"\n{len(items)} ligne(s)"


def _cell(item: dict[str, Any], key: str) -> str:
    if key == "who":  # the structure's own file number, else the pseudonymous id
        return item.get("file_number") or item["person_id"]
    if key == "what":
        return KIND_LABELS.get(item["kind"], item["kind"])
    value = item.get(key)
    return "—" if value in (None, "") else str(value)


def _fit(widths: list[int], floors: list[int], room: int) -> list[int]:
    widths = list(widths)
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floors[i])
        if widths[widest] <= max(floors[widest], 4):
            break  # nothing left to cut: the terminal wraps, which still loses nothing
        widths[widest] -= 1
    return widths


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def followup_client(url: str | None, token: str | None) -> httpx.Client:
    return client(url, "ARIANE_FOLLOWUP_URL", DEFAULT_URL, token)


def _all_lines(api: httpx.Client, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    page = 1
    while True:
        body = get(api, "/v1/worklist", {**params, "page": page, "page_size": 1000})
        yield from body["items"]
        if page * body["page_size"] >= body["total"]:
            return
        page += 1
