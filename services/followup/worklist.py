"""GET /v1/worklist (JSON or CSV) and GET /v1/ledger: what each structure must do today, and the conservation check."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select

from services.followup import store
from services.followup.store import ActionRow

router = APIRouter(prefix="/v1", tags=["followup"])
COLUMNS = ("person_id", "structure_id", "kind", "reason", "since")


def _caller(request: Request, authorization: str | None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    structure = request.app.state.ctx.extra["followup_settings"].structure_for(authorization[7:].strip())
    if structure is None:
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    return structure


@router.get("/worklist")
async def worklist(request: Request, structure: str | None = None, page: int = Query(1, ge=1),
                   page_size: int = Query(50, ge=1, le=1000), format: str | None = None,
                   authorization: str | None = Header(default=None), accept: str | None = Header(default=None)):
    ctx = request.app.state.ctx
    caller = _caller(request, authorization)
    coordinator = ctx.extra["rules"].coordinator
    if caller != coordinator:
        if structure not in (None, caller):
            raise HTTPException(403, "a structure sees only its own worklist")
        structure = caller
    query = select(ActionRow)
    counted = select(func.count()).select_from(ActionRow)
    if structure:
        query, counted = query.where(ActionRow.structure_id == structure), counted.where(
            ActionRow.structure_id == structure)
    query = query.order_by(ActionRow.urgency, ActionRow.since, ActionRow.person_id, ActionRow.kind)
    async with ctx.session_factory() as session:
        total = (await session.execute(counted)).scalar_one()
        rows = (await session.execute(query.offset((page - 1) * page_size).limit(page_size))).scalars().all()
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
async def ledger(request: Request):
    ctx = request.app.state.ctx
    async with ctx.session_factory() as session:
        result = await ctx.extra["handler"].check_ledger(_ReadOnly(session))
    return {"counts": result["counts"], "registered": result["known"], "merged": result["merged"],
            "balanced": result["balanced"]}


class _ReadOnly:
    """Just enough of a unit of work for the ledger check, on a read-only session."""

    def __init__(self, session) -> None:  # noqa: ANN001
        self.session = session
