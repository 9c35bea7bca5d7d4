"""The store's tables: one row per projection document, plus the runtime's inbox and outbox."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, String, Text
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


metadata = Base.metadata
tables = runtime_tables(metadata, SERVICE)
document_table = DocumentRow.__table__
