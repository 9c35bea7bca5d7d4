"""Followup's tables and the translation between rows and the pure PersonFile."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Column, Text, delete, func, select
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.followup.domain import Emitted, PersonFile, Status
from services.followup.facts import Fact
from services.runtime.tables import runtime_tables

KNOWN, MERGED = "_known", "_merged"  # ledger rows beside the per-state counts


class Base(SQLModel, registry=registry()):
    pass


class PersonRow(Base, table=True):
    __tablename__ = "followup_person"
    person_id: str = Field(primary_key=True, max_length=128)
    facts: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    emitted: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    state: str | None = Field(default=None, index=True, max_length=32)  # None once merged into another id
    reason: str | None = Field(default=None, max_length=32)
    since: date | None = None
    structure_to_act: str | None = Field(default=None, index=True, max_length=64)
    wake_on: date | None = Field(default=None, index=True)
    merged_into: str | None = Field(default=None, max_length=128)


class ActionRow(Base, table=True):
    """One line of a worklist: why a structure must act for a person, and since when."""

    __tablename__ = "followup_action"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(index=True, max_length=128)
    structure_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=32)
    reason: str = Field(max_length=64)
    since: date
    urgency: int


class LedgerRow(Base, table=True):
    __tablename__ = "followup_ledger"
    name: str = Field(primary_key=True, max_length=32)
    count: int = 0


class ClockRow(Base, table=True):
    __tablename__ = "followup_clock"
    id: int = Field(default=1, primary_key=True)
    today: date


metadata = Base.metadata
tables = runtime_tables(metadata, "followup")


def to_file(row: PersonRow) -> PersonFile:
    raw = json.loads(row.emitted or "{}")
    emitted = Emitted(frozenset(raw.get("at_risk", ())), dict(raw.get("lost", {})), frozenset(raw.get("reengaged", ())),
                      frozenset(raw.get("checkins", ())), raw.get("closed"))
    return PersonFile(row.person_id, tuple(Fact.from_json(f) for f in json.loads(row.facts)), emitted)


def write_file(row: PersonRow, file: PersonFile, status: Status) -> None:
    e = file.emitted
    row.facts = json.dumps([f.to_json() for f in sorted(file.facts, key=lambda f: f.order)])
    row.emitted = json.dumps({"at_risk": sorted(e.at_risk), "lost": e.lost, "reengaged": sorted(e.reengaged),
                              "checkins": sorted(e.checkins), "closed": e.closed})
    row.state, row.reason, row.since = status.state.value, status.reason, status.since
    row.structure_to_act, row.wake_on = status.structure_to_act, status.wake_on


async def today(session: AsyncSession) -> date | None:
    row = await session.get(ClockRow, 1)
    return row.today if row else None


async def set_today(session: AsyncSession, day: date) -> None:
    row = await session.get(ClockRow, 1)
    if row is None:
        session.add(ClockRow(id=1, today=day))
    elif day > row.today:
        row.today = day
        session.add(row)


async def ledger_add(session: AsyncSession, name: str | None, delta: int) -> None:
    if delta == 0 or name is None:
        return
    row = await session.get(LedgerRow, name)
    if row is None:
        row = LedgerRow(name=name, count=0)
    row.count += delta
    session.add(row)


async def ledger_counts(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(select(LedgerRow.name, LedgerRow.count))).all()
    return {name: count for name, count in rows}


async def recount(session: AsyncSession) -> dict[str, int]:
    """Counts per state straight from the person table: what the ledger must agree with."""
    rows = (await session.execute(
        select(PersonRow.state, func.count()).where(PersonRow.state.is_not(None)).group_by(PersonRow.state))).all()
    return {state: n for state, n in rows}


async def replace_actions(session: AsyncSession, person_id: str, actions: list[ActionRow]) -> None:
    await session.execute(delete(ActionRow).where(ActionRow.person_id == person_id))
    session.add_all(actions)
