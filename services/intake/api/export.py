"""GET /v1/people/{person_id}/export: a person's access request (RGPD): everything intake holds on them.

The identity, every structure's file number, the partner events accepted about them and what intake published
about them (ids, types, dates), who may see their identity, who saw it, the identity reviews they are part of,
and their erasure if they were erased. Who may ask is who may see the identity (a structure's keys for the
people it registered or is asked to act on, the coordinator for anyone, an auditor never), with a stated
reason: the export shows the identity, so it is itself a disclosure (recorded and announced with
identity.disclosed in the transaction that reads it, answered once committed). An erased person: 410.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from contracts.envelope import utc
from contracts.identity import DisclosureBasis
from services.intake.api.caller import caller_with, intake_deps, problems, unprocessable
from services.intake.api.disclosing import disclose
from services.intake.api.disclosures import Disclosure
from services.intake.api.identity import IdentityView
from services.intake.domain import disclosure, pii
from services.intake.domain.disclosure import Caller
from services.intake.store import disclosures, entitlements, erasures
from services.runtime.service import ServiceContext
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.intake.app import IntakeDeps

router = APIRouter(tags=["erasure"])

_caller = caller_with("partner", "counsellor", "coordinator",
                      refusal="a {role} key never sees an identity, nor a person's export: auditors list the "
                              "disclosures and the erasures")


class FileNumber(BaseModel):
    structure_id: str
    file_number: str


class AcceptedEvent(BaseModel):
    source: str
    event_id: str = Field(description="The id the structure gave it.")
    published_id: str = Field(description="The id it was published under on ariane.intake.v1.")
    accepted_at: datetime | None


class PublishedEvent(BaseModel):
    event_id: str
    type: str
    at: datetime


class Entitlement(BaseModel):
    structure_id: str
    basis: str
    since: datetime


class ReviewEntry(BaseModel):
    review_id: str | None
    other_person_id: str
    status: str
    opened_at: datetime | None
    decided_at: datetime | None


class PersonExport(BaseModel):
    person_id: str = Field(description="The person's id (the id it was merged into, if it was).")
    merged_person_ids: list[str] = Field(description="Ids folded into this person.")
    identity: IdentityView
    file_numbers: list[FileNumber]
    accepted_events: list[AcceptedEvent] = Field(description="The partners' events intake accepted about them.")
    published_events: list[PublishedEvent] = Field(description="What intake published about them.")
    entitled: list[Entitlement] = Field(description="The structures that may see their identity, and why.")
    disclosures: list[Disclosure] = Field(description="Who saw their identity (this export is the last).")
    reviews: list[ReviewEntry] = Field(description="Identity reviews they are part of.")
    basis: DisclosureBasis = Field(description="What entitled the caller to this export.")
    disclosure_id: str = Field(description="The id of this export's identity.disclosed event and audit entry.")


@router.get("/v1/people/{person_id}/export", response_model=PersonExport,
            summary="Everything intake holds on a person (access request)",
            responses={**problems(401, 403, 404), 410: {"description": "The person was erased: intake holds no "
                                                                      "identity nor file number of theirs."}})
async def export(request: Request,
                 person_id: str = Path(min_length=1, max_length=128, description="A person_id intake handed out."),
                 reason: str = Query(min_length=disclosure.REASON_MIN, max_length=disclosure.REASON_MAX,
                                     description="Why, in a few words; published with the disclosure (never a "
                                                 "name, a NIR, an e-mail or a phone number).",
                                     examples=["demande d'accès de la personne"]),
                 caller: Caller = Depends(_caller), deps: IntakeDeps = Depends(intake_deps)) -> PersonExport:
    ctx: ServiceContext = request.app.state.ctx
    async with ctx.session_factory() as session, session.begin():
        uow = UnitOfWork(session=session, tables=ctx.tables, service=ctx.name, topic_prefix=ctx.settings.topic_prefix)
        canonical = await deps.resolver.canonical(session, person_id)
        ids = await deps.resolver.aliases(session, canonical) if canonical else []
        held: set[str] = set()
        if canonical is not None and caller.role in disclosure.STRUCTURE_ROLES:
            held = await entitlements.bases(session, ids, caller.structure)
        try:
            basis = disclosure.basis_for(caller, held)  # before anything else: a refusal says nothing more
        except disclosure.NotEntitled as refused:
            raise HTTPException(403, str(refused)) from None
        if canonical is None:
            raise HTTPException(404, "intake knows no person by this id")
        erased = await erasures.of_person(session, canonical)
        facts = await deps.resolver.identity_of(session, canonical)
        if erased is not None or facts is None:
            when = f" on {erased.erased_on.isoformat()} ({erased.reason})" if erased else ""
            raise HTTPException(410, f"this person was erased{when}: intake holds no identity nor file number of "
                                     "theirs (GET /v1/erasures lists the erasure)")
        problem = disclosure.reason_problem(reason, pii.name_tokens(facts.last_name, facts.first_names))
        if problem:
            raise unprocessable("reason", problem)
        event = await disclose(uow, deps, caller, canonical, basis, reason)
        refs = await deps.resolver.partner_refs(session, ids)
        accepted = await erasures.accepted_events(session, ids)
        out = await erasures.published(session, ctx.tables.outbox, ids)
        entitled = await erasures.entitled(session, ids)
        seen = await disclosures.listing(session, person_ids=ids, structure=None, since=None, until=None,
                                         limit=10000)
        reviews = await erasures.reviews_of(session, ids)
    deps.metrics.disclosures.labels(basis.value).inc()
    ctx.relay.notify()
    return PersonExport(
        person_id=canonical, merged_person_ids=[pid for pid in ids if pid != canonical],
        identity=IdentityView.of(facts),
        file_numbers=[FileNumber(structure_id=r.structure_id, file_number=r.partner_ref) for r in refs],
        accepted_events=[AcceptedEvent(source=e.source, event_id=e.event_id, published_id=e.published_id,
                                       accepted_at=utc(e.accepted_at) if e.accepted_at else None) for e in accepted],
        published_events=[PublishedEvent(event_id=i, type=t, at=at) for i, t, at in out],
        entitled=[Entitlement(structure_id=e.structure_id, basis=e.basis, since=utc(e.since)) for e in entitled],
        disclosures=[Disclosure(disclosure_id=d.disclosure_id, person_id=d.person_id, disclosed_to=d.disclosed_to,
                                key_id=d.key_id, role=d.role, basis=DisclosureBasis(d.basis), reason=d.reason,
                                disclosed_at=utc(d.disclosed_at)) for d in seen],
        reviews=[ReviewEntry(review_id=r.review_id, other_person_id=r.person_b if r.person_a in ids else r.person_a,
                             status=r.status, opened_at=utc(r.opened_at) if r.opened_at else None,
                             decided_at=utc(r.decided_at) if r.decided_at else None) for r in reviews],
        basis=basis, disclosure_id=event.data.disclosure_id)

