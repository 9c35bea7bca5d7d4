"""The referral tables: one row per person (the domain state as JSON), one row per referral for queries, and the
webhook queue (one row per notice, one per attempt)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, LargeBinary, Text
from sqlalchemy.orm import registry
from sqlmodel import Column, Field, SQLModel

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
