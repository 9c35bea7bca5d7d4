"""POST /v1/erasures: erase a person (RGPD: their request, or the end of the retention period); GET /v1/erasures:
who was erased, why, at whose request (auditors and the coordinator).

A person is named by their person_id or by a structure's own file number. Who may erase is who may see the
identity (a structure's keys for the people it registered or is asked to act on, the coordinator for anyone,
an auditor never). Erasing shreds the person's key in the vault (their identity can no longer be read), drops
the blind indexes, every structure's file number for them and intake's copies of what it published about them,
closes the identity reviews they were part of,
records the erasure and puts person.erased in the outbox, all in one transaction; the answer is sent once it
committed. Erasing again answers `already_erased` with the first erasure. A file number no longer finds an
erased person (404), and the same identity registered again is a new person with a new id.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.exc import IntegrityError

from contracts.envelope import utc
from contracts.erasure import ErasureReason
from services.intake.api.caller import caller_with, intake_deps, problems
from services.intake.domain import disclosure, erasure, identity
from services.intake.domain.disclosure import Caller
from services.intake.handlers import erase_person
from services.intake.store import entitlements, erasures
from services.intake.store.tables import ErasureRow, PartnerRefRow
from services.runtime.service import ServiceContext
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from services.intake.app import IntakeDeps

router = APIRouter(tags=["erasure"])

_eraser = caller_with("partner", "counsellor", "coordinator",
                      refusal="a {role} key never erases anyone: auditors list the erasures (GET /v1/erasures)")
_auditor = caller_with("auditor", "coordinator",
                       refusal="a {role} key may not read the erasures: auditors and the coordinator do")

class ErasureRequest(BaseModel):
    person_id: str | None = Field(default=None, min_length=1, max_length=128, description="A person_id intake "
                                  "handed out; or give file_number.")
    file_number: str | None = Field(default=None, min_length=1, max_length=128,
                                    description="A structure's own file number for the person.")
    structure_id: str | None = Field(default=None, min_length=2, max_length=64,
                                     description="Whose file number it is: a structure's keys may only name their "
                                                 "own structure (the default); the coordinator names one.")
    reason: ErasureReason = Field(description="The person's request (droit à l'effacement), or the retention "
                                  "period over.", examples=["person_request"])

    @model_validator(mode="after")
    def _one_way_to_name(self) -> ErasureRequest:
        if (self.person_id is None) == (self.file_number is None):
            raise ValueError("name the person by person_id, or by file_number (with structure_id), not both")
        if self.structure_id is not None and self.file_number is None:
            raise ValueError("structure_id goes with file_number")
        return self


class ErasureAnswer(BaseModel):
    status: Literal["erased", "already_erased"] = Field(description="Erased now, or by an earlier request (the "
                                                        "fields are then that erasure's).")
    erasure_id: str = Field(description="The id of the person.erased event and of the audit entry.")
    person_id: str
    merged_person_ids: list[str] = Field(description="Ids folded into the person earlier, erased with it.")
    erased_on: date
    reason: ErasureReason
    requested_by: str


class Erasure(BaseModel):
    erasure_id: str
    person_id: str
    merged_person_ids: list[str]
    reason: ErasureReason
    requested_by: str
    key_id: str
    role: str
    erased_on: date
    erased_at: datetime


class ErasureList(BaseModel):
    items: list[Erasure]


def _answer(status: Literal["erased", "already_erased"], row: ErasureRow) -> ErasureAnswer:
    return ErasureAnswer(status=status, erasure_id=row.erasure_id, person_id=row.person_id,
                         merged_person_ids=json.loads(row.merged_person_ids), erased_on=row.erased_on,
                         reason=ErasureReason(row.reason), requested_by=row.requested_by)


async def _named(session: AsyncSession, deps: IntakeDeps, caller: Caller, body: ErasureRequest) -> str | None:
    """The canonical id the request names, or None when nobody is known by it."""
    if body.person_id is not None:
        return await deps.resolver.canonical(session, body.person_id)
    structure = body.structure_id or caller.structure
    if caller.role in disclosure.STRUCTURE_ROLES and structure != caller.structure:
        raise HTTPException(403, f"a {caller.role} key names people by its own structure's file numbers only")
    assert body.file_number is not None
    ref = await session.get(PartnerRefRow, (structure, identity.partner_ref_of(body.file_number, structure)))
    if ref is None:
        raise HTTPException(404, f"{structure} has no person under this file number (unknown, or erased: an "
                                 "erasure drops every file number of the person)")
    return await deps.resolver.canonical(session, ref.person_id)


@router.post("/v1/erasures", response_model=ErasureAnswer, summary="Erase a person (RGPD)",
             responses=problems(400, 401, 403, 404))
async def erase(request: Request, body: ErasureRequest, caller: Caller = Depends(_eraser),
                deps: IntakeDeps = Depends(intake_deps)) -> ErasureAnswer:
    ctx: ServiceContext = request.app.state.ctx
    try:
        answer = await _erase_once(ctx, deps, caller, body)
    except IntegrityError:
        # Two requests erased the same person at once: the other committed first (one erasure row per person).
        answer = await _erase_once(ctx, deps, caller, body)
    if answer.status == "erased":
        ctx.relay.notify()
    return answer


async def _erase_once(ctx: ServiceContext, deps: IntakeDeps, caller: Caller, body: ErasureRequest) -> ErasureAnswer:
    async with ctx.session_factory() as session, session.begin():
        uow = UnitOfWork(session=session, tables=ctx.tables, service=ctx.name, topic_prefix=ctx.settings.topic_prefix)
        canonical = await _named(session, deps, caller, body)
        held: set[str] = set()
        if canonical is not None and caller.role in disclosure.STRUCTURE_ROLES:
            held = await entitlements.bases(session, await deps.resolver.aliases(session, canonical),
                                            caller.structure)
        try:
            erasure.may_erase(caller, held)  # before anything else: a refusal says nothing more
        except erasure.NotEntitled as refused:
            raise HTTPException(403, str(refused)) from None
        if canonical is None:
            raise HTTPException(404, "intake knows no person by this id")
        done = await erasures.of_person(session, canonical)
        if done is not None:
            return _answer("already_erased", done)
        await erase_person(uow, deps, canonical, body.reason, caller.structure, caller.key_id, caller.role)
        row = await erasures.of_person(session, canonical)
        assert row is not None
    return _answer("erased", row)


@router.get("/v1/erasures", response_model=ErasureList, summary="Who was erased", responses=problems(401, 403))
async def list_erasures(
        request: Request,
        person_id: str | None = Query(None, max_length=128, description="One person (or an id folded into it)."),
        requested_by: str | None = Query(None, max_length=64, description="Erasures this structure asked for."),
        since: datetime | None = Query(None, description="From this time (inclusive)."),
        until: datetime | None = Query(None, description="Before this time (exclusive)."),
        limit: int = Query(1000, ge=1, le=10000),
        caller: Caller = Depends(_auditor), deps: IntakeDeps = Depends(intake_deps)) -> ErasureList:
    ctx: ServiceContext = request.app.state.ctx
    async with ctx.read_session_factory() as session:
        canonical = None
        if person_id is not None:
            canonical = await deps.resolver.canonical(session, person_id) or person_id
        rows = await erasures.listing(session, person_id=canonical, requested_by=requested_by, since=since,
                                      until=until, limit=limit)
    return ErasureList(items=[Erasure(
        erasure_id=r.erasure_id, person_id=r.person_id, merged_person_ids=json.loads(r.merged_person_ids),
        reason=ErasureReason(r.reason), requested_by=r.requested_by, key_id=r.key_id, role=r.role,
        erased_on=r.erased_on, erased_at=utc(r.erased_at)) for r in rows])
