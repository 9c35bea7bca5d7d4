"""Read API: a structure (its partner key or its counsellors' keys) sees the referrals sent to it and their
deadlines; the coordinator sees all; an auditor reads the report, not people's referrals (403)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from services.referral import store
from services.referral.domain.lifecycle import Status
from services.runtime.access import Principal, principal_from, require_role, require_structure

if TYPE_CHECKING:
    from services.referral.app import ReferralDeps

router = APIRouter(prefix="/v1", tags=["referrals"])


class ReferralView(BaseModel):
    referral_id: str
    person_id: str
    kind: str
    origin: str
    rule: str | None
    from_structure: str
    to_structure: str
    status: str
    issued_on: date
    acknowledge_due: date
    accept_due: date
    appointment_due: date | None
    acknowledged_on: date | None
    accepted_on: date | None
    refused_on: date | None
    refusal_reason: str | None
    expired_on: date | None
    closed_on: date | None
    sla_breached: bool


def deps(request: Request) -> ReferralDeps:
    return request.app.state.ctx.deps


caller = principal_from(lambda request: deps(request).credentials)


@router.get("/referrals", response_model=list[ReferralView])
async def list_referrals(request: Request, who: Principal = Depends(caller),
                         to: str | None = Query(default=None, description="Receiving structure id."),
                         status: Status | None = Query(default=None),
                         limit: int = Query(default=500, ge=1, le=5000),
                         offset: int = Query(default=0, ge=0)) -> list[ReferralView]:
    require_role(who, "coordinator", "partner", "counsellor")
    if who.role != "coordinator":
        to = require_structure(who, to, "referrals (those sent to it)")
    async with request.app.state.ctx.session_factory() as session:
        rows = await store.referrals(session, to=to, status=status.value if status else None, limit=limit,
                                     offset=offset)
    return [ReferralView.model_validate(row, from_attributes=True) for row in rows]


class PersonReferrals(BaseModel):
    person_id: str  # the id the person is known by now
    asked_for: str  # the id asked: a merged id answers with the person it was merged into
    referrals: list[ReferralView]


@router.get("/people/{person_id}/referrals", response_model=PersonReferrals)
async def person_referrals(person_id: str, request: Request,
                           who: Principal = Depends(caller)) -> PersonReferrals:
    """One person's referrals (those sent to the caller's structure, all for the coordinator). An id merged into
    another one reads as that person: its referrals are there."""
    require_role(who, "coordinator", "partner", "counsellor")
    to = None if who.role == "coordinator" else require_structure(who, None, "referrals (those sent to it)")
    async with request.app.state.ctx.session_factory() as session:
        current = await store.current_id(session, person_id)
        rows = [] if current is None else await store.referrals(session, person_id=current, to=to, limit=5000)
    # A structure learns nothing of a person it was sent no referral about, not even that the id is known.
    if current is None or (to is not None and not rows):
        raise HTTPException(404, "no referral of this person to show")
    return PersonReferrals(person_id=current, asked_for=person_id,
                           referrals=[ReferralView.model_validate(row, from_attributes=True) for row in rows])
