"""GET /v1/disclosures: who saw whose identity, on what basis, why and when, with which key (auditors and the
coordinator). Read from intake's own store, whose rows commit with the identity.disclosed events."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from contracts.envelope import utc
from contracts.identity import DisclosureBasis
from services.intake.api.caller import caller_with, intake_deps, problems
from services.intake.domain.disclosure import Caller
from services.intake.store import disclosures
from services.runtime.service import ServiceContext

if TYPE_CHECKING:
    from services.intake.app import IntakeDeps

router = APIRouter(tags=["identity"])

_auditor = caller_with("auditor", "coordinator",
                       refusal="a {role} key may not read the disclosures: auditors and the coordinator do")


class Disclosure(BaseModel):
    disclosure_id: str
    person_id: str
    disclosed_to: str
    key_id: str
    role: str
    basis: DisclosureBasis
    reason: str
    disclosed_at: datetime


class DisclosureList(BaseModel):
    items: list[Disclosure]


@router.get("/v1/disclosures", response_model=DisclosureList, summary="Who saw whose identity",
            responses=problems(401, 403))
async def list_disclosures(
        request: Request,
        person_id: str | None = Query(None, max_length=128, description="One person (and the ids merged into it)."),
        structure: str | None = Query(None, max_length=64, description="Disclosures to this structure."),
        since: datetime | None = Query(None, description="From this time (inclusive)."),
        until: datetime | None = Query(None, description="Before this time (exclusive)."),
        limit: int = Query(1000, ge=1, le=10000),
        caller: Caller = Depends(_auditor), deps: IntakeDeps = Depends(intake_deps)) -> DisclosureList:
    ctx: ServiceContext = request.app.state.ctx
    async with ctx.read_session_factory() as session:
        ids = None
        if person_id is not None:
            ids = await deps.resolver.aliases(session, await deps.resolver.canonical(session, person_id) or person_id)
        rows = await disclosures.listing(session, person_ids=ids, structure=structure, since=since, until=until,
                                         limit=limit)
    return DisclosureList(items=[Disclosure(
        disclosure_id=r.disclosure_id, person_id=r.person_id, disclosed_to=r.disclosed_to, key_id=r.key_id,
        role=r.role, basis=DisclosureBasis(r.basis), reason=r.reason, disclosed_at=utc(r.disclosed_at))
        for r in rows])
