"""The referral store: one row per person (the domain state as JSON) and one row per referral for queries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, LargeBinary, Text, delete
from sqlalchemy.orm import registry
from sqlmodel import Column, Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.territory import ReferralSla
from services.referral.lifecycle import PersonState, next_check
from services.runtime.tables import runtime_tables


class Base(SQLModel, registry=registry()):
    pass


class PersonRow(Base, table=True):
    __tablename__ = "referral_person"
    person_id: str = Field(primary_key=True, max_length=128)
    state: str = Field(sa_column=Column(Text, nullable=False))


class ReferralRow(Base, table=True):
    """A projection of each referral of the person state, rewritten with it; the read API and ticks query it."""

    __tablename__ = "referral_referral"
    person_id: str = Field(primary_key=True, max_length=128)
    referral_id: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=32)
    origin: str = Field(max_length=32)
    rule: str | None = Field(default=None, max_length=64)
    from_structure: str = Field(max_length=64, index=True)
    to_structure: str = Field(max_length=64, index=True)
    status: str = Field(max_length=32, index=True)
    issued_on: date
    acknowledge_due: date
    accept_due: date
    appointment_due: date | None = None
    acknowledged_on: date | None = None
    accepted_on: date | None = None
    refused_on: date | None = None
    refusal_reason: str | None = Field(default=None, max_length=32)
    expired_on: date | None = None
    closed_on: date | None = None
    sla_breached: bool = False
    next_check_on: date | None = Field(default=None, index=True)


class WebhookDeliveryRow(Base, table=True):
    """One notice to one structure's webhook: written with the decision that emitted the event, then worked
    through by the delivery loop until delivered or failed."""

    __tablename__ = "referral_webhook_delivery"
    event_id: str = Field(primary_key=True, max_length=160)
    event_type: str = Field(max_length=128)
    structure_id: str = Field(max_length=64, index=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)  # pending | delivered | failed
    attempts: int = 0
    # When the next attempt is due (UTC); also the lease of an attempt in flight. None once finished.
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), index=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)


class WebhookAttemptRow(Base, table=True):
    """Every POST tried, whatever came of it."""

    __tablename__ = "referral_webhook_attempt"
    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=160, index=True)
    attempt: int
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    duration_ms: float
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    verdict: str = Field(max_length=16)  # delivered | retry | failed


metadata = Base.metadata
tables = runtime_tables(metadata, "referral")


async def load_person(session: AsyncSession, person_id: str) -> PersonState:
    row = await session.get(PersonRow, person_id)
    if row is None:
        return PersonState(person_id=person_id)
    return PersonState.model_validate_json(row.state)


async def save_person(session: AsyncSession, state: PersonState, sla: ReferralSla) -> None:
    row = await session.get(PersonRow, state.person_id)
    if row is None:
        session.add(PersonRow(person_id=state.person_id, state=state.model_dump_json()))
    else:
        row.state = state.model_dump_json()
        session.add(row)
    await session.execute(delete(ReferralRow).where(ReferralRow.person_id == state.person_id))
    for r in state.referrals.values():
        session.add(ReferralRow(
            person_id=state.person_id, referral_id=r.referral_id, kind=r.kind.value, origin=r.origin.value,
            rule=r.rule, from_structure=r.from_structure, to_structure=r.to_structure, status=r.status.value,
            issued_on=r.issued_on, acknowledge_due=r.acknowledge_due, accept_due=r.accept_due,
            appointment_due=r.appointment_due, acknowledged_on=r.acknowledged_on, accepted_on=r.accepted_on,
            refused_on=r.refused_on, refusal_reason=r.refusal_reason.value if r.refusal_reason else None,
            expired_on=r.expired_on, closed_on=r.closed_on, sla_breached=r.sla_breached,
            next_check_on=next_check(r, sla)))
    await session.flush()


async def people_due(session: AsyncSession, day: date) -> list[str]:
    """People with a referral a tick of `day` may act on (a reminder or an expiry)."""
    rows = await session.exec(select(ReferralRow.person_id).where(ReferralRow.next_check_on <= day).distinct()
                              .order_by(ReferralRow.person_id))
    return list(rows.all())


async def referrals(session: AsyncSession, *, to: str | None = None, status: str | None = None,
                    limit: int = 500, offset: int = 0) -> list[ReferralRow]:
    query = select(ReferralRow)
    if to is not None:
        query = query.where(ReferralRow.to_structure == to)
    if status is not None:
        query = query.where(ReferralRow.status == status)
    query = query.order_by(ReferralRow.issued_on, ReferralRow.referral_id).offset(offset).limit(limit)
    return list((await session.exec(query)).all())


def add_webhook_delivery(session: AsyncSession, *, event_id: str, event_type: str, structure_id: str, url: str,
                         body: bytes, now: datetime) -> None:
    """Queue a notice in the caller's transaction: it exists if and only if the decision that caused it does."""
    session.add(WebhookDeliveryRow(event_id=event_id, event_type=event_type, structure_id=structure_id, url=url,
                                   body=body, next_attempt_at=now, created_at=now))
