"""Read API: a structure sees the referrals sent to it and their deadlines; the coordinator sees all."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from services.referral import store
from services.referral.domain.lifecycle import Status
from services.runtime.auth import bearer_principal

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


caller = bearer_principal(lambda request: deps(request).tokens)


@router.get("/referrals", response_model=list[ReferralView])
async def list_referrals(request: Request, structure: str = Depends(caller),
                         service: ReferralDeps = Depends(deps),
                         to: str | None = Query(default=None, description="Receiving structure id."),
                         status: Status | None = Query(default=None),
                         limit: int = Query(default=500, ge=1, le=5000),
                         offset: int = Query(default=0, ge=0)) -> list[ReferralView]:
    if structure != service.territory.coordinator.id:
        if to is not None and to != structure:
            raise HTTPException(403, "a structure sees only the referrals sent to it")
        to = structure
    async with request.app.state.ctx.session_factory() as session:
        rows = await store.referrals(session, to=to, status=status.value if status else None, limit=limit,
                                     offset=offset)
    return [ReferralView.model_validate(row, from_attributes=True) for row in rows]
