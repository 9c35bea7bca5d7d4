"""Followup's tables, its queries, and the translation between rows and the pure values of the domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Text, func, or_, select
from sqlalchemy.orm import attributes, registry
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.followup.domain import (Emitted, Fact, LedgerCheck, LineKind, PendingReview, PersonFile, Status,
                                      check_ledger)
from services.followup.store.writes import Writes
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
    answer_id: str | None = Field(default=None, max_length=128)  # the referral or check-in to answer
    expected: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    file_number: str | None = Field(default=None, index=True, max_length=64)  # the acting structure's own


class ReviewRow(Base, table=True):
    """An identity review intake opened: while `decision` is None, `person_id`'s alerts are held back."""

    __tablename__ = "followup_identity_review"
    review_id: str = Field(primary_key=True, max_length=128)
    person_id: str = Field(index=True, max_length=128)  # the newer id, whose alerts wait
    other_person_id: str = Field(max_length=128)
    matched: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    missing: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    opened_on: date
    decision: str | None = Field(default=None, index=True, max_length=32)


class HoldRow(Base, table=True):
    """Who holds a person now: one row per (structure, counsellor) holding them. A structure's caseload is
    its rows; a transfer picks from them."""

    __tablename__ = "followup_hold"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(index=True, max_length=128)
    structure_id: str = Field(index=True, max_length=64)
    counsellor: str | None = Field(default=None, max_length=64)
    file_number: str | None = Field(default=None, max_length=64)  # the holding structure's own


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


def to_file(row: PersonRow, zone: ZoneInfo) -> PersonFile:
    """The person's file as the rules read it; each fact's day is taken in the territory's `zone`."""
    raw = json.loads(row.emitted or "{}")
    emitted = Emitted(frozenset(raw.get("at_risk", ())), dict(raw.get("lost", {})), frozenset(raw.get("reengaged", ())),
                      frozenset(raw.get("checkins", ())), raw.get("closed"), frozenset(raw.get("corrected", ())))
    return PersonFile(row.person_id, tuple(Fact.from_json(f, zone) for f in json.loads(row.facts)), emitted)


# What write_file sets: flagged as changed even when equal, so that every person updated by a batch has the same
# UPDATE, which the ORM sends as one statement for all of them instead of one per set of columns that moved.
_WRITTEN = ("facts", "emitted", "state", "reason", "since", "structure_to_act", "wake_on")


def write_file(row: PersonRow, file: PersonFile, status: Status) -> None:
    if attributes.instance_state(row).persistent:
        for key in _WRITTEN:
            if key in row.__dict__:  # loaded (a row expired by a rolled-back SAVEPOINT is written whole anyway)
                attributes.flag_modified(row, key)
    e = file.emitted
    row.facts = json.dumps([f.to_json() for f in sorted(file.facts, key=lambda f: f.order)])
    row.emitted = json.dumps({"at_risk": sorted(e.at_risk), "lost": e.lost, "reengaged": sorted(e.reengaged),
                              "checkins": sorted(e.checkins), "closed": e.closed, "corrected": sorted(e.corrected)})
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


def wake_query(day: date, dialect: str):
    """The persons a tick of `day` must look at: a threshold of theirs has come (`wake_on`, the earliest day
    anything about them can change without a new fact). Read through the `wake_on` index, so a tick costs what
    is due that day, not the size of the territory; at-risk and lost people are not looked at every day, their
    next threshold (lost, closure, a check-in) is their `wake_on` like anyone's.

    On PostgreSQL the rows are locked in id order, as every batch locks them (handlers._row), so that two
    instances never wait on each other in a circle. SQLite has no row locks (a transaction takes the one write
    lock), and there an `ORDER BY person_id` makes the planner walk the primary key over every person rather
    than search the `wake_on` index (a tick at 100k people read all 100k): the rows are sorted after reading."""
    query = select(PersonRow).where(PersonRow.wake_on <= day, PersonRow.merged_into.is_(None))
    if dialect == "postgresql":
        return query.order_by(PersonRow.person_id).with_for_update()
    return query


async def persons_to_wake(session: AsyncSession, day: date) -> Sequence[PersonRow]:
    rows = (await session.execute(wake_query(day, session.get_bind().dialect.name))).scalars().all()
    return sorted(rows, key=lambda row: row.person_id)


async def people(session: AsyncSession, person_ids: set[str], *, lock: bool = False) -> Sequence[PersonRow]:
    """The rows of these ids that exist (merged ones included), in one query; `lock`: locked until commit, in id
    order (as persons_to_wake locks them: two transactions locking this way never wait for each other in a
    circle)."""
    query = select(PersonRow).where(PersonRow.person_id.in_(sorted(person_ids)))
    if lock:
        query = query.order_by(PersonRow.person_id).with_for_update()
    return (await session.execute(query)).scalars().all()


async def write(session: AsyncSession, writes: Writes) -> None:
    """Send what `writes` gathered (worklist lines, holds, ledger moves) in one round, and empty it."""
    if writes:
        await session.run_sync(writes.write, ActionRow.__table__, HoldRow.__table__, LedgerRow.__table__)


async def ledger_counts(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(select(LedgerRow.name, LedgerRow.count))).all()
    return {name: count for name, count in rows}


async def recount(session: AsyncSession) -> dict[str, int]:
    """Counts per state straight from the person table: what the ledger must agree with."""
    rows = (await session.execute(
        select(PersonRow.state, func.count()).where(PersonRow.state.is_not(None)).group_by(PersonRow.state))).all()
    return {state: n for state, n in rows}


async def ledger_check(session: AsyncSession, *, full: bool = True) -> LedgerCheck:
    """The conservation check on what the store holds now (read only). `full=False` checks the counters
    against each other only (a few rows), taking them as their own recount: the check a tick makes on most
    days (handlers.RECOUNT_EVERY_DAYS says why)."""
    counts = await ledger_counts(session)
    known, merged = counts.pop(KNOWN, 0), counts.pop(MERGED, 0)
    again = await recount(session) if full else {state: n for state, n in counts.items() if n}
    return check_ledger(counts, known, merged, again)


async def checkins_overdue(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(ActionRow).where(
        ActionRow.kind == LineKind.CHECKIN_MISSED.value))).scalar_one()


SORTS = {"urgency": (ActionRow.urgency, ActionRow.since), "since": (ActionRow.since, ActionRow.urgency)}


async def worklist_page(session: AsyncSession, structure: str | None, page: int, page_size: int,
                        kind: str | None = None, search: str | None = None,
                        sort: str = "urgency") -> tuple[int, Sequence[ActionRow]]:
    """(total lines, the lines of `page`) of one structure's worklist (None: every structure's), most urgent
    first, then oldest first (`sort="since"`: oldest first). `search` finds a person by the acting structure's
    file number (exactly) or by the start of the pseudonymous id."""
    conditions = []
    if structure:
        conditions.append(ActionRow.structure_id == structure)
    if kind:
        conditions.append(ActionRow.kind == kind)
    if search:
        conditions.append(or_(ActionRow.file_number == search, ActionRow.person_id.startswith(search, autoescape=True),
                              ActionRow.answer_id == search))
    counted = select(func.count()).select_from(ActionRow).where(*conditions)
    query = select(ActionRow).where(*conditions).order_by(*SORTS[sort], ActionRow.person_id, ActionRow.kind)
    total = (await session.execute(counted)).scalar_one()
    rows = (await session.execute(query.offset((page - 1) * page_size).limit(page_size))).scalars().all()
    return total, rows


async def person(session: AsyncSession, person_id: str) -> PersonRow | None:
    """A person's row, following merges to the id they are known by now (None: never heard of)."""
    seen: set[str] = set()
    row = await session.get(PersonRow, person_id)
    while row is not None and row.merged_into is not None and row.person_id not in seen:
        seen.add(row.person_id)
        row = await session.get(PersonRow, row.merged_into)
    return row


async def actions_of(session: AsyncSession, person_id: str) -> Sequence[ActionRow]:
    return (await session.execute(select(ActionRow).where(ActionRow.person_id == person_id)
                                  .order_by(ActionRow.urgency, ActionRow.since))).scalars().all()


SAME_PERSON, MERGED_REVIEW = "same_person", "merged"


async def pending_review(session: AsyncSession, person_id: str) -> PendingReview | None:
    """The oldest identity review that holds back this person's alerts, if any: undecided, or decided "same
    person" while the merge that follows the decision has not arrived yet."""
    row = (await session.execute(select(ReviewRow).where(ReviewRow.person_id == person_id, or_(
        ReviewRow.decision.is_(None), ReviewRow.decision == SAME_PERSON))
                                 .order_by(ReviewRow.opened_on, ReviewRow.review_id).limit(1))).scalars().first()
    if row is None:
        return None
    return PendingReview(row.review_id, row.other_person_id, tuple(json.loads(row.matched)),
                         tuple(json.loads(row.missing)), row.opened_on, awaiting_merge=row.decision == SAME_PERSON)


async def people_under_review(session: AsyncSession) -> set[str]:
    """Everyone a review holds back now (pending_review's condition, for all people at once)."""
    return set((await session.execute(select(ReviewRow.person_id).distinct().where(or_(
        ReviewRow.decision.is_(None), ReviewRow.decision == SAME_PERSON)))).scalars().all())


async def reviews_pending(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(ReviewRow).where(
        ReviewRow.decision.is_(None)))).scalar_one()


async def reviews_between(session: AsyncSession, a: str, b: str) -> Sequence[ReviewRow]:
    """The reviews about this pair of ids not yet closed by their merge, whichever way round."""
    return (await session.execute(select(ReviewRow).where(or_(ReviewRow.decision.is_(None),
                                                              ReviewRow.decision == SAME_PERSON), or_(
        (ReviewRow.person_id == a) & (ReviewRow.other_person_id == b),
        (ReviewRow.person_id == b) & (ReviewRow.other_person_id == a))))).scalars().all()


async def caseload_page(session: AsyncSession, structure: str, counsellor: str | None, page: int,
                        page_size: int) -> tuple[int, Sequence[HoldRow]]:
    """(total, one page) of the people a structure (or one counsellor in it) holds now."""
    conditions = [HoldRow.structure_id == structure]
    if counsellor is not None:
        conditions.append(HoldRow.counsellor == counsellor)
    total = (await session.execute(select(func.count()).select_from(HoldRow).where(*conditions))).scalar_one()
    rows = (await session.execute(select(HoldRow).where(*conditions).order_by(HoldRow.person_id, HoldRow.id)
                                  .offset((page - 1) * page_size).limit(page_size))).scalars().all()
    return total, rows
