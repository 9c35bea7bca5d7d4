"""`ariane person erase` and `ariane person export`: a person's rights (RGPD) from the command line.

- `erase`: the person's identity is shredded in intake's vault and every service forgets their file numbers
  (their request, or the retention period over). By person id, or by a structure's own file number.
- `export`: the person's access request: everything intake holds on them (itself a disclosure, so a reason is
  stated), and followup's timeline of them.

Both use the caller's own key (`--token` or ARIANE_TOKEN): a structure's key for the people it registered or is
asked to act on, the coordinator's for anyone; an auditor's never (auditors read `GET /v1/erasures`).
"""

from __future__ import annotations

import json
from typing import Any

import typer

from cli.api_client import client, get, post

app = typer.Typer(no_args_is_help=True, help="A person's rights: erasure and access request (RGPD).")

INTAKE_URL, FOLLOWUP_URL = "http://127.0.0.1:8101", "http://127.0.0.1:8103"
REASONS = ("person_request", "retention_period_over")

_token = typer.Option(None, "--token", help="Your access key (default: ARIANE_TOKEN).")
_intake_url = typer.Option(None, "--url", help="Intake's address (default: ARIANE_INTAKE_URL, else the local one).")


def erasure_request(person: str | None, structure: str | None, file_number: str | None,
                    reason: str) -> dict[str, Any]:
    """The body of POST /v1/erasures, or BadParameter when the person is not named exactly one way."""
    if reason not in REASONS:
        raise typer.BadParameter(", ".join(REASONS), param_hint="--reason")
    if (person is None) == (file_number is None):
        raise typer.BadParameter("name the person by --person, or by --file-number (with --structure)",
                                 param_hint="--person / --file-number")
    if structure is not None and file_number is None:
        raise typer.BadParameter("--structure goes with --file-number", param_hint="--structure")
    body: dict[str, Any] = {"reason": reason}
    if person is not None:
        body["person_id"] = person
    else:
        body["file_number"] = file_number
        if structure is not None:
            body["structure_id"] = structure
    return body


@app.command("erase")
def erase(person: str = typer.Option(None, "--person", help="The person's id."),
          structure: str = typer.Option(None, "--structure", help="Whose file number (default: your key's "
                                        "structure; the coordinator names one)."),
          file_number: str = typer.Option(None, "--file-number", help="The structure's own file number."),
          reason: str = typer.Option(..., "--reason", help="person_request (droit à l'effacement) or "
                                     "retention_period_over."),
          url: str = _intake_url, token: str = _token) -> None:
    """Erase a person: their identity is destroyed, their file numbers forgotten, their figures kept."""
    body = erasure_request(person, structure, file_number, reason)
    with client(url, "ARIANE_INTAKE_URL", INTAKE_URL, token) as api:
        answer = post(api, "/v1/erasures", body)
    said = "Personne effacée" if answer["status"] == "erased" else "Déjà effacée"
    typer.echo(f"{said} : {answer['person_id']} le {answer['erased_on']} ({answer['reason']}, à la demande de "
               f"{answer['requested_by']}) — effacement {answer['erasure_id']}")


@app.command("export")
def export(person: str = typer.Option(..., "--person", help="The person's id."),
           reason: str = typer.Option("demande d'accès de la personne", "--reason",
                                      help="Why (published with the disclosure: never a name nor a number)."),
           timeline: bool = typer.Option(True, "--timeline/--no-timeline", help="Add followup's timeline."),
           url: str = _intake_url,
           followup_url: str = typer.Option(None, "--followup-url", help="Followup's address (default: "
                                            "ARIANE_FOLLOWUP_URL, else the local one)."),
           token: str = _token) -> None:
    """Print, as JSON, everything Ariane holds on a person (their access request)."""
    with client(url, "ARIANE_INTAKE_URL", INTAKE_URL, token) as api:
        held: dict[str, Any] = {"intake": get(api, f"/v1/people/{person}/export", {"reason": reason})}
    if timeline:
        with client(followup_url, "ARIANE_FOLLOWUP_URL", FOLLOWUP_URL, token) as api:
            held["followup_timeline"] = get(api, f"/v1/people/{held['intake']['person_id']}/timeline")
    typer.echo(json.dumps(held, ensure_ascii=False, indent=2))
