"""GET /v1/worklist (JSON or CSV): what each structure must do today; GET /v1/ledger: the conservation check."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from services.followup import store
from services.followup.app import FollowupDeps
from services.runtime.auth import TokenTable, bearer_principal

router = APIRouter(prefix="/v1", tags=["followup"])
COLUMNS = ("person_id", "structure_id", "kind", "reason", "since")


def deps(request: Request) -> FollowupDeps:
    return request.app.state.ctx.deps


def _tokens(request: Request) -> TokenTable:
    return deps(request).tokens


caller = bearer_principal(_tokens)


@router.get("/worklist")
async def worklist(structure: str | None = None, page: int = Query(1, ge=1),
                   page_size: int = Query(50, ge=1, le=1000), format: str | None = None,
                   accept: str | None = Header(default=None), principal: str = Depends(caller),
                   followup: FollowupDeps = Depends(deps)):
    if principal != followup.rules.coordinator:
        if structure not in (None, principal):
            raise HTTPException(403, "a structure sees only its own worklist")
        structure = principal
    async with followup.session_factory() as session:
        total, rows = await store.worklist_page(session, structure, page, page_size)
        today = await store.today(session)
    items = [{"person_id": r.person_id, "structure_id": r.structure_id, "kind": r.kind, "reason": r.reason,
              "since": r.since.isoformat(), "days": (today - r.since).days if today else None} for r in rows]
    if format == "csv" or (accept or "").startswith("text/csv"):
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=[*COLUMNS, "days"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(items)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8")
    return JSONResponse({"structure": structure, "today": today.isoformat() if today else None, "page": page,
                         "page_size": page_size, "total": total, "items": items})


@router.get("/ledger")
async def ledger(followup: FollowupDeps = Depends(deps)):
    """Counts per state only, no person: open like /health, so an operator can watch the ledger balance."""
    async with followup.session_factory() as session:
        check = await store.ledger_check(session)
    return {"counts": check.counts, "registered": check.known, "merged": check.merged, "balanced": check.balanced}
