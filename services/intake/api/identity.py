"""POST /v1/people/{person_id}/identity: controlled re-identification.

A structure's keys (partner, counsellor) see the identity of the people their structure registered or is
asked to act on; the coordinator anyone's; an auditor nobody's. A reason is always stated, and published with
the identity.disclosed event (so it must hold no personal data). The identity is read, the disclosure recorded
and its event put in the outbox in one transaction; the answer is sent only once it committed.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, Field, field_validator

from contracts.identity import DisclosureBasis
from services.intake.api.caller import caller_with, intake_deps, problems, unprocessable
from services.intake.api.disclosing import disclose
from services.intake.domain import disclosure, pii
from services.intake.domain.disclosure import Caller
from services.intake.domain.identity import IdentityFacts
from services.intake.store import entitlements
from services.runtime.service import ServiceContext
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.intake.app import IntakeDeps

router = APIRouter(tags=["identity"])

_caller = caller_with("partner", "counsellor", "coordinator",
                      refusal="a {role} key never sees an identity: auditors list the disclosures "
                              "(GET /v1/disclosures)")


class RevealRequest(BaseModel):
    reason: str = Field(min_length=disclosure.REASON_MIN, max_length=disclosure.REASON_MAX,
                        description="Why the identity is needed, in a few words. Published with the disclosure: "
                                    "never a name, a NIR, an e-mail or a phone number.",
                        examples=["rappeler la personne perdue de vue"])

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        problem = disclosure.reason_problem(value)  # length once stripped, NIRs, e-mails, phones, IBANs
        if problem:
            raise ValueError(problem)
        return value.strip()


class IdentityView(BaseModel):
    """The identity the vault holds (every field the partners gave, the latest value of each)."""

    nir: str | None = None
    last_name: str | None = None
    first_names: str | None = None
    birth_date: date | None = None
    email: str | None = None
    phone: str | None = None

    @classmethod
    def of(cls, facts: IdentityFacts) -> IdentityView:
        return cls(nir=facts.nir, last_name=facts.last_name, first_names=facts.first_names,
                   birth_date=facts.birth_date, email=facts.email, phone=facts.phone)


class RevealAnswer(BaseModel):
    person_id: str = Field(description="The person's id (the id it was merged into, if it was).")
    identity: IdentityView
    basis: DisclosureBasis = Field(description="What entitled the caller to see it.")
    disclosure_id: str = Field(description="The id of the identity.disclosed event and of the audit entry.")


@router.post("/v1/people/{person_id}/identity", response_model=RevealAnswer, summary="See a person's identity",
             responses=problems(400, 401, 403, 404))
async def reveal(request: Request, body: RevealRequest,
                 person_id: str = Path(min_length=1, max_length=128, description="A person_id intake handed out."),
                 caller: Caller = Depends(_caller), deps: IntakeDeps = Depends(intake_deps)) -> RevealAnswer:
    ctx: ServiceContext = request.app.state.ctx
    async with ctx.session_factory() as session, session.begin():
        uow = UnitOfWork(session=session, tables=ctx.tables, service=ctx.name, topic_prefix=ctx.settings.topic_prefix)
        canonical = await deps.resolver.canonical(session, person_id)
        held: set[str] = set()
        if canonical is not None and caller.role in disclosure.STRUCTURE_ROLES:
            held = await entitlements.bases(session, await deps.resolver.aliases(session, canonical),
                                            caller.structure)
        try:
            basis = disclosure.basis_for(caller, held)  # before anything else: a refusal says nothing more
        except disclosure.NotEntitled as refused:
            raise HTTPException(403, str(refused)) from None
        facts = await deps.resolver.identity_of(session, canonical) if canonical else None
        if canonical is None or facts is None:
            raise HTTPException(404, "intake holds no identity for this person (unknown id, or erased)")
        problem = disclosure.reason_problem(body.reason, pii.name_tokens(facts.last_name, facts.first_names))
        if problem:
            raise unprocessable("reason", problem)
        event = await disclose(uow, deps, caller, canonical, basis, body.reason)
    deps.metrics.disclosures.labels(basis.value).inc()
    ctx.relay.notify()
    return RevealAnswer(person_id=canonical, identity=IdentityView.of(facts), basis=basis,
                        disclosure_id=event.data.disclosure_id)
