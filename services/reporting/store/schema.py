"""The store's tables: one row per projection document, plus the runtime's inbox and outbox."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, String, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.runtime.tables import runtime_tables

SERVICE = "reporting"
VERSIONS_DIR = Path(__file__).resolve().parents[1] / "migrations" / "versions"


class Base(SQLModel, registry=registry()):
    pass


class DocumentRow(Base, table=True):
    """One projection document (a person, a referral, a barrier, a stay in a dispositif, a job...) as JSON."""

    __tablename__ = "reporting_document"
    key: str = Field(sa_column=Column(String(300), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    doc: str = Field(sa_column=Column(Text, nullable=False))
    # Whose document it is (the person id the facts were about; for a person or an alias, its own id), so the
    # metrics can read one person's documents alone; None for the clock.
    person: str | None = Field(default=None, sa_column=Column(String(160), nullable=True, index=True))
    # The write that last changed it (reporting_sequence): the metrics read what changed since they last looked.
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0", index=True))


class SequenceRow(Base, table=True):
    """A counter taken once per write of documents; its row lock orders the writers' commits (PostgreSQL)."""

    __tablename__ = "reporting_sequence"
    name: str = Field(sa_column=Column(String(32), primary_key=True))
    value: int = Field(sa_column=Column(BigInteger, nullable=False))


metadata = Base.metadata
tables = runtime_tables(metadata, SERVICE)
document_table = DocumentRow.__table__
sequence_table = SequenceRow.__table__
