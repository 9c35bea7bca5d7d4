"""`ariane worklist` and `ariane timeline`: what a structure must do today, and one person's history.

Both read followup's API with the caller's own access key (`--token` or ARIANE_TOKEN), so the answer is what
that key may see. A table fits the terminal it is printed on; piped into a file or another command it is
never cut.

The structures' file numbers come from intake (POST /v1/file-numbers, with the same key: a structure's own, the
coordinator's every structure's), since intake publishes none on a topic an erasure could not reach. When
intake does not answer, the lines are still printed, each person by their id, the number said unavailable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import typer

from cli.api_client import check_format, client, get, print_items
from services.web.file_numbers import by_person_and_structure

DEFAULT_URL = "http://127.0.0.1:8103"
INTAKE_URL = "http://127.0.0.1:8101"
UNAVAILABLE = "[unavailable]"  # a line's file number when intake could not be asked
LOOKUP_BATCH = 1000  # ids per request to intake: its limit
KIND_LABELS = {"lost": "perdu de vue", "at_risk": "à risque", "checkin_missed": "suivi manqué",
               "checkin_due": "suivi dû", "referral_expiring": "orientation à échéance"}
TABLE_COLUMNS = (("Dossier", "who"), ("Quoi", "what"), ("Répondre à", "answer_id"), ("Depuis", "since"),
                 ("Jours", "days"), ("Structure", "structure_id"), ("Attendu", "expected"))
UNCUT = ("who", "since", "days")
CSV_COLUMNS = ("person_id", "structure_id", "file_number", "kind", "answer_id", "reason", "expected", "since",
               "days", "timeline_url")

_url = typer.Option(None, "--url", help="Followup's address (default: ARIANE_FOLLOWUP_URL, else the local one).")
_token = typer.Option(None, "--token", help="Your access key (default: ARIANE_TOKEN).")
_intake_url = typer.Option(None, "--intake-url", help="Intake's address, for the file numbers (default: "
                           "ARIANE_INTAKE_URL, else the local one).")


def worklist(structure: str = typer.Option(None, help="A structure id (the coordinator's key sees them all)."),
             kind: str = typer.Option(None, help="Only lines of this kind: " + ", ".join(KIND_LABELS) + "."),
             search: str = typer.Option(None, "--search", "-q", help="A file number, an id to answer, or the "
                                        "start of a person id."),
             output: str = typer.Option("table", "--format", help="table, csv or json."),
             url: str = _url, token: str = _token, intake_url: str = _intake_url) -> None:
    """Print a worklist: who to call, why, since when, and the id to answer."""
    check_format(output)
    with intake_client(intake_url, token) as intake:
        if search:
            search = person_searched(intake, search)
        params = {k: v for k, v in (("structure", structure), ("kind", kind), ("q", search)) if v}
        with followup_client(url, token) as api:
            items = list(_all_lines(api, params))
        found = file_numbers(intake, [i.get("person_id") for i in items])
    if found is None and items:
        typer.echo("note: intake does not answer: file numbers are unavailable, people are named by their id",
                   err=True)
    print_items(with_numbers(items, found), output, CSV_COLUMNS, render_table)


def timeline(person_id: str = typer.Argument(..., help="The person's id, as a worklist line gives it."),
             output: str = typer.Option("table", "--format", help="table or json."),
             url: str = _url, token: str = _token, intake_url: str = _intake_url) -> None:
    """Print one person's dated history: holds, referrals, dispositifs, jobs, check-ins, alerts."""
    with followup_client(url, token) as api:
        answer = get(api, f"/v1/people/{person_id}/timeline")
    with intake_client(intake_url, token) as intake:
        found = file_numbers(intake, [answer.get("person_id")])
    if output == "json":  # file_numbers: intake's answer, null when intake did not answer
        typer.echo(json.dumps({**answer, "file_numbers": found}, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{answer['person_id']}{numbers_said(answer, found)}: {answer['state']}"
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
        number = item.get("file_number")
        return number if number and number != UNAVAILABLE else item["person_id"]
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


def intake_client(url: str | None, token: str | None) -> httpx.Client:
    return client(url, "ARIANE_INTAKE_URL", INTAKE_URL, token)


def file_numbers(intake: httpx.Client, person_ids: Sequence[Any]) -> list[dict[str, Any]] | None:
    """Intake's file numbers of these people the key may read, or None when intake does not answer (or
    refuses: an auditor's key reads none)."""
    ids = sorted({str(p) for p in person_ids if p})
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), LOOKUP_BATCH):
        try:
            answer = intake.post("/v1/file-numbers", json={"person_ids": ids[start:start + LOOKUP_BATCH]})
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        out += answer.json().get("items") or []
    return out


def person_searched(intake: httpx.Client, search: str) -> str:
    """The person one of the key's file numbers names, else the search as typed (an id to answer, the start of
    a person id, or a number followup still holds from an older event)."""
    try:
        answer = intake.post("/v1/file-numbers", json={"file_numbers": [search]})
    except httpx.HTTPError:
        return search
    people = {i["person_id"] for i in answer.json().get("items") or []} if answer.status_code == 200 else set()
    return people.pop() if len(people) == 1 else search


def with_numbers(items: Sequence[dict[str, Any]], found: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Each line with its structure's own number(s) for its person from intake's answer `found` (None: intake
    did not answer: the number followup still holds from an older event, else UNAVAILABLE)."""
    if found is None:
        return [{**item, "file_number": item.get("file_number") or UNAVAILABLE} for item in items]
    numbers = by_person_and_structure(found)  # the web page's own reading of intake's answer
    return [{**item, "file_number": numbers.get((str(item.get("person_id")), str(item.get("structure_id"))))}
            for item in items]


def numbers_said(answer: dict[str, Any], found: Sequence[dict[str, Any]] | None) -> str:
    """How a timeline's heading names the person's file numbers the key may read (a structure's own; the
    coordinator's, each structure's)."""
    if found is None:
        own = answer.get("file_number")
        return f" — dossier {own}" if own else " — n° de dossier indisponible (intake ne répond pas)"
    if len({row["structure_id"] for row in found}) == 1:
        return " — dossier " + ", ".join(row["file_number"] for row in found)
    return "".join(f"{' — dossiers' if n == 0 else ','} {row['structure_id']} {row['file_number']}"
                   for n, row in enumerate(found))
