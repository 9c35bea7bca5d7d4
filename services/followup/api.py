"""Followup's read API: the worklist (JSON or CSV), one person's timeline, and the ledger's balance.

Who reads what (keys of the credentials book): a structure's keys (partner, counsellor) read its own worklist
and caseload and the timeline of the people it has had to do with; the territory coordinator reads every
worklist, caseload and timeline; an auditor reads timelines (pseudonymous) but no worklist. A structure's file
number for a person is shown to that structure only. It comes only from older events that carried one: intake
publishes no file number any more, and the pages and the CLI read the numbers from intake (POST
/v1/file-numbers) with their user's key, so followup has no online dependency on intake.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from services.followup import store
from services.followup.app import FollowupDeps
from services.followup.domain import LineKind, PersonFile, file_numbers, involved_structures, status_of, timeline
from services.runtime.access import Principal, principal_from

router = APIRouter(prefix="/v1", tags=["followup"])
COLUMNS = ("person_id", "structure_id", "file_number", "kind", "answer_id", "reason", "expected", "since", "days",
           "timeline_url")


def deps(request: Request) -> FollowupDeps:
    return request.app.state.ctx.deps


caller = principal_from(lambda request: deps(request).credentials)


@dataclass(frozen=True)
class Viewer:
    """What the caller may read: one structure's data, or (the coordinator) everyone's; an auditor reads
    timelines only."""

    structure: str | None
    sees_everyone: bool
    reads_worklists: bool = True

    def may_read_worklist_of(self, structure: str | None) -> bool:
        return self.reads_worklists and (self.sees_everyone or structure == self.structure)


def viewer(who: Principal = Depends(caller)) -> Viewer:
    if who.role == "coordinator":
        return Viewer(who.structure, sees_everyone=True)
    if who.role == "auditor":
        return Viewer(None, sees_everyone=True, reads_worklists=False)
    return Viewer(who.structure, sees_everyone=False)


def worklist_reader(who: Viewer = Depends(viewer)) -> Viewer:
    if not who.reads_worklists:
        raise HTTPException(403, "an auditor key reads timelines and reports, not worklists or caseloads")
    return who


def timeline_url(person_id: str) -> str:
    return f"/v1/people/{person_id}/timeline"


def line_json(row: store.ActionRow, today: Any) -> dict[str, Any]:
    return {"person_id": row.person_id, "structure_id": row.structure_id, "file_number": row.file_number,
            "kind": row.kind, "answer_id": row.answer_id, "reason": row.reason, "expected": row.expected,
            "since": row.since.isoformat(), "days": (today - row.since).days if today else None,
            "timeline_url": timeline_url(row.person_id)}


@router.get("/worklist")
async def worklist(structure: str | None = None,
                   kind: LineKind | None = Query(None, description="Only lines of this kind."),
                   q: str | None = Query(None, max_length=128, description="A file number (exact), an id to "
                                         "answer (exact), or the start of a person id."),
                   sort: str = Query("urgency", pattern="^(urgency|since)$",
                                     description="urgency: most urgent first; since: oldest first."),
                   page: int = Query(1, ge=1), page_size: int = Query(50, ge=1, le=1000),
                   format: str | None = Query(None, pattern="^(json|csv)$"),  # noqa: A002
                   accept: str | None = Header(default=None), who: Viewer = Depends(worklist_reader),
                   followup: FollowupDeps = Depends(deps)):
    if not who.sees_everyone:
        if structure not in (None, who.structure):
            raise HTTPException(403, "a structure sees only its own worklist")
        structure = who.structure
    async with followup.session_factory() as session:
        total, rows = await store.worklist_page(session, structure, page, page_size, kind.value if kind else None,
                                                q.strip() if q else None, sort)
        today = await store.today(session)
    items = [line_json(r, today) for r in rows]
    if format == "csv" or (format is None and (accept or "").startswith("text/csv")):
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(items)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="worklist.csv"'})
    return JSONResponse({"structure": structure, "today": today.isoformat() if today else None, "page": page,
                         "page_size": page_size, "total": total, "items": items})


@router.get("/people/{person_id}/timeline")
async def person_timeline(person_id: str, who: Viewer = Depends(viewer), followup: FollowupDeps = Depends(deps)):
    """One person's dated history: facts with their structure, alerts and check-ins with the rule behind each,
    today's state, and the worklist lines the caller may see for them."""
    async with followup.session_factory() as session:
        row = await store.person(session, person_id)
        if row is None:
            raise HTTPException(404, "no person with this id is known to followup")
        today = await store.today(session)
        file = store.to_file(row, followup.rules.zone)
        status = status_of(file, today, followup.rules)
        if not who.sees_everyone and who.structure not in involved_structures(file, status):
            raise HTTPException(403, "a structure sees the timeline of the people it has had to do with only")
        lines = [line_json(r, today) for r in await store.actions_of(session, row.person_id)
                 if who.may_read_worklist_of(r.structure_id)]
    numbers = _own_file_number(file, who)
    return {"person_id": row.person_id, "asked_for": person_id, "today": today.isoformat() if today else None,
            "state": row.state, "reason": row.reason, "since": row.since.isoformat() if row.since else None,
            "structure_to_act": row.structure_to_act, "holders": list(status.holders), "file_number": numbers,
            "worklist": lines,
            "entries": [{"day": e.day.isoformat(), "at": e.at.isoformat() if e.at else None, "kind": e.kind,
                         "label": e.label, "structure_id": e.structure_id, "ref": e.ref, "rule": e.rule}
                        for e in timeline(file, status, followup.rules, today)]}


def _own_file_number(file: PersonFile, who: Viewer) -> str | None:
    return file_numbers(file.facts).get(who.structure) if who.structure else None


@router.get("/caseload")
async def caseload(structure: str | None = None, counsellor: str | None = Query(None, max_length=64),
                   page: int = Query(1, ge=1), page_size: int = Query(200, ge=1, le=1000),
                   who: Viewer = Depends(worklist_reader), followup: FollowupDeps = Depends(deps)):
    """The people a structure (or one of its counsellors) holds now: what a caseload transfer picks from."""
    structure = structure or who.structure
    if not who.may_read_worklist_of(structure):
        raise HTTPException(403, "a structure sees only its own caseload")
    async with followup.session_factory() as session:
        total, rows = await store.caseload_page(session, structure, counsellor, page, page_size)
    return {"structure": structure, "counsellor": counsellor, "page": page, "page_size": page_size, "total": total,
            "items": [{"person_id": r.person_id, "structure_id": r.structure_id, "counsellor": r.counsellor,
                       "file_number": r.file_number, "timeline_url": timeline_url(r.person_id)} for r in rows]}


@router.get("/ledger")
async def ledger(followup: FollowupDeps = Depends(deps)):
    """Counts per state only, no person: open like /health, so an operator can watch the ledger balance."""
    async with followup.session_factory() as session:
        check = await store.ledger_check(session)
        reviews = await store.reviews_pending(session)
    return {"counts": check.counts, "registered": check.known, "merged": check.merged, "balanced": check.balanced,
            "identity_reviews_pending": reviews}
