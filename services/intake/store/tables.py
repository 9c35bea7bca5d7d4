"""Intake's own tables: the identity vault, its blind indexes, partner references, reviews, who may see an
identity and who saw one, who was erased, API keys."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, LargeBinary, Text, func
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.runtime.tables import runtime_tables


class Base(SQLModel, registry=registry()):
    pass


class PersonRow(Base, table=True):
    """One person of the vault. `wrapped_key` NULL means erased: `identity` can no longer be opened."""

    __tablename__ = "intake_person"
    person_id: str = Field(primary_key=True, max_length=64)
    wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    identity: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    nir_key: str | None = Field(default=None, max_length=64, description="NIR digest, to refuse merging two NIRs.")
    merged_into: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True),
                                                                     server_default=func.now()))


class MatchKeyRow(Base, table=True):
    """Blind index: a keyed digest of part of an identity (NIR, names + birth date, ...) -> the person."""

    __tablename__ = "intake_match_key"
    kind: str = Field(primary_key=True, max_length=16)
    digest: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(primary_key=True, max_length=64, index=True)


class PartnerRefRow(Base, table=True):
    """A structure's own file number for a person."""

    __tablename__ = "intake_partner_ref"
    structure_id: str = Field(primary_key=True, max_length=64)
    partner_ref: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(max_length=64, index=True)


class ReviewRow(Base, table=True):
    """Two people who look alike (same birth date, close names) but nothing proves they are one: a human decides.

    One row per pair (`person_a` < `person_b`), so a pair is reviewed once whatever order or retry brought it;
    the row is the review's state: pending until the coordinator decides, then who decided, when and why."""

    __tablename__ = "intake_review"
    person_a: str = Field(primary_key=True, max_length=64)
    person_b: str = Field(primary_key=True, max_length=64)
    reason: str = Field(max_length=64)
    cause_event_id: str = Field(max_length=160)
    review_id: str | None = Field(default=None, max_length=64, index=True, unique=True,
                                  description="Derived from the pair (domain.reviews.review_id).")
    newer_person_id: str | None = Field(default=None, max_length=64, description="The id created second.")
    matched: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    missing: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    status: str = Field(default="pending", max_length=32, index=True, sa_column_kwargs={"server_default": "pending"})
    opened_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    note: str | None = Field(default=None, max_length=500)


class EntitlementRow(Base, table=True):
    """A structure may see a person's identity: it registered them, or it is asked to act on them (a referral
    to it, an alert or a check-in naming it). Written as intake learns it; `since` is the fact's time."""

    __tablename__ = "intake_entitlement"
    person_id: str = Field(primary_key=True, max_length=64)
    structure_id: str = Field(primary_key=True, max_length=64, index=True)
    basis: str = Field(primary_key=True, max_length=32)
    since: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DisclosureRow(Base, table=True):
    """Someone was shown a person's identity: written in the transaction that emits its identity.disclosed."""

    __tablename__ = "intake_disclosure"
    disclosure_id: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(max_length=64, index=True)
    disclosed_to: str = Field(max_length=64, index=True)
    key_id: str = Field(max_length=64)
    role: str = Field(max_length=32)
    basis: str = Field(max_length=32)
    reason: str = Field(max_length=500)
    disclosed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class ErasureRow(Base, table=True):
    """A person was erased (their key shredded, their file numbers dropped): written in the transaction that
    emits its person.erased, so the list auditors read and the topic always agree. One row per person."""

    __tablename__ = "intake_erasure"
    erasure_id: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(max_length=64, unique=True, index=True)
    merged_person_ids: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    reason: str = Field(max_length=32)
    requested_by: str = Field(max_length=64, index=True)
    key_id: str = Field(max_length=64)
    role: str = Field(max_length=32)
    erased_on: date
    erased_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class ClosureRow(Base, table=True):
    """A person whose case is closed, and since when: once the territory's retention period has run from
    `closed_on`, the clock erases them. Any later event about the person removes the row (they are back)."""

    __tablename__ = "intake_closure"
    person_id: str = Field(primary_key=True, max_length=64)
    closed_on: date = Field(index=True)


class EventRow(Base, table=True):
    """A partner event intake accepted, by (source, id) as CloudEvents makes them unique: its content digest
    tells the same event sent again (duplicate) from another event reusing the id (conflict). Refused events
    leave no row, so a corrected event may reuse their id."""

    __tablename__ = "intake_event"
    source: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(primary_key=True, max_length=128)
    content_sha256: str = Field(max_length=64)
    published_id: str = Field(max_length=160, index=True, description="The id it was published under.")
    person_id: str | None = Field(default=None, max_length=64, index=True)  # a person's access request
    accepted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True),
                                                                      server_default=func.now()))


class ApiKeyRow(Base, table=True):
    """A structure's API key: only the SHA-256 of the secret, and the signing key sealed by the master key."""

    __tablename__ = "intake_api_key"
    key_id: str = Field(primary_key=True, max_length=32)
    structure_id: str = Field(max_length=64, index=True)
    secret_sha256: str = Field(max_length=64)
    signing_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True),
                                                                     server_default=func.now()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


metadata = Base.metadata
tables = runtime_tables(metadata, "intake")
# An HTTP request is answered once its events' outbox rows are on Kafka, and finds those rows by event id (a
# resend finds the rows an earlier attempt wrote): without this index each lookup read the whole outbox,
# payloads included, which only grows.
Index("ix_intake_outbox_event_id", tables.outbox.c.event_id)
