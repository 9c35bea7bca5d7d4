"""The structures' file numbers on the pages: read from intake with the user's own key, never from a topic.

Intake publishes no file number (an erasure could not reach a topic's copy), so followup's lines name people by
their id; the page asks intake (POST /v1/file-numbers) for the numbers of the people it shows: a structure's
keys get their own structure's numbers only, the coordinator every structure's. When intake cannot answer, the
page still shows: each person by their id, the number said to be unavailable (a number followup still holds
from an older event is shown as it was). Nothing here logs a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from services.web.upstream import Upstream

UNAVAILABLE = "[indisponible]"  # a line's number when intake could not be asked (CSV and page alike)
UNAVAILABLE_NOTICE = ("Les numéros de dossier sont momentanément indisponibles (le service d'accueil des "
                      "événements ne répond pas) : les personnes sont nommées par leur identifiant.")


def by_person_and_structure(found: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """Intake's answer as (person, structure) -> the structure's number(s) for the person, in its order."""
    out: dict[tuple[str, str], list[str]] = {}
    for item in found:
        key = (str(item.get("person_id")), str(item.get("structure_id")))
        out.setdefault(key, []).append(str(item.get("file_number")))
    return {key: ", ".join(numbers) for key, numbers in out.items()}


def with_numbers(items: Iterable[Mapping[str, Any]], found: Iterable[Mapping[str, Any]] | None
                 ) -> list[dict[str, Any]]:
    """Each line with its structure's own number for its person (`file_number`), from intake's answer `found`
    (None: intake could not be asked); a line intake knows no number for has none."""
    numbers = by_person_and_structure(found) if found is not None else None
    out = []
    for item in items:
        if numbers is None:
            number = item.get("file_number") or UNAVAILABLE
        else:
            number = numbers.get((str(item.get("person_id")), str(item.get("structure_id"))))
        out.append({**item, "file_number": number})
    return out


async def lookup(upstream: Upstream, token: str, person_ids: Iterable[Any]) -> list[dict[str, Any]] | None:
    """Intake's numbers of these people the user may read, or None when intake could not answer."""
    ids = sorted({str(p) for p in person_ids if p})
    if not ids:
        return []
    answer = await upstream.file_numbers(token, person_ids=ids)
    if not answer.ok or not isinstance(answer.body, dict):
        return None
    return list(answer.body.get("items") or [])


async def person_searched(upstream: Upstream, token: str, q: str) -> str:
    """What to ask followup for a search: the person a number of the user's names, else the search as typed
    (an id to answer, the start of a person id, or a number followup still holds from an older event)."""
    if not q:
        return q
    answer = await upstream.file_numbers(token, file_numbers=[q])
    if answer.ok and isinstance(answer.body, dict):
        people = sorted({str(i.get("person_id")) for i in answer.body.get("items") or []})
        if len(people) == 1:
            return people[0]
    return q


async def csv_with_numbers(upstream: Upstream, token: str, page: bytes) -> bytes:
    """One page of followup's worklist CSV with the file_number column filled from intake."""
    rows = list(csv.DictReader(io.StringIO(page.decode("utf-8"))))
    if not rows or "file_number" not in rows[0]:
        return page
    filled = with_numbers(rows, await lookup(upstream, token, (r.get("person_id") for r in rows)))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in filled)
    return buf.getvalue().encode("utf-8")
