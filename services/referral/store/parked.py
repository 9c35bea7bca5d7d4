"""Answers waiting for their referral: one row per answer, so that a day tick finds the people whose waiting
answers are due without reading every person's state. The answer itself is in the person's state; the row
keeps when its wait ends, where the answer came from and its bytes, for the dead letter that reports it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import BigInteger, LargeBinary, update
from sqlalchemy import select as select_columns
from sqlmodel import Column, Field, select
from sqlmodel.sql.expression import SelectOfScalar

from services.referral.store.rows import Base
from services.runtime.unit_of_work import UnitOfWork


class ParkedAnswerRow(Base, table=True):
    __tablename__ = "referral_parked_answer"
    event_id: str = Field(primary_key=True, max_length=160)
    person_id: str = Field(max_length=128, index=True)
    referral_id: str = Field(max_length=128)
    answer_on: date
    # The last day it waits; set by the first day tick after it arrived (its wait is counted from there).
    waits_until: date | None = Field(default=None, index=True)
    # Where it was consumed (from the inbox), so that its dead letter is the one of that record.
    topic: str = Field(max_length=255)
    partition: int
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    original: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


async def park(uow: UnitOfWork, *, person_id: str, referral_id: str, event_id: str, answer_on: date,
               original: bytes) -> None:
    """Record a waiting answer in the caller's transaction, with where its record came from. The row is sent
    with the session's next flush: the answers a batch parks go in one INSERT."""
    topic, partition, offset = await _where(uow, event_id)
    uow.session.add(ParkedAnswerRow(event_id=event_id, person_id=person_id, referral_id=referral_id,
                                    answer_on=answer_on, topic=topic, partition=partition, offset=offset,
                                    original=original))


# Where a consumed batch's records came from, by event id, read from the inbox (the processor's claim wrote
# them) in one query at the first answer parked, rather than one query per answer.
_WHERE = "referral.parked.where"


async def _where(uow: UnitOfWork, event_id: str) -> tuple[str, int, int]:
    known: dict[str, tuple[str, int, int]] | None = uow.memo.get(_WHERE)
    if known is None or event_id not in known:
        ids = sorted({event_id} | ({e.id for e in uow.batch} if known is None else set()))
        inbox = uow.tables.inbox
        rows = await uow.session.exec(select_columns(inbox.c.event_id, inbox.c.topic, inbox.c.partition,
                                                     inbox.c.offset).where(inbox.c.event_id.in_(ids)))
        known = uow.memo.setdefault(_WHERE, {})
        known.update((i, (t, p, o)) for i, t, p, o in rows)
    return known.get(event_id, (f"unrecorded:{event_id}", -1, -1))


async def unpark(uow: UnitOfWork, event_id: str) -> ParkedAnswerRow | None:
    """Take an answer out of the waiting room; its row (None if it had none) for the dead letter."""
    for row in uow.session.new:  # parked in this transaction and not sent yet: it never will be
        if isinstance(row, ParkedAnswerRow) and row.event_id == event_id:
            uow.session.expunge(row)
            return row
    row = await uow.session.get(ParkedAnswerRow, event_id)
    if row is not None:
        await uow.session.delete(row)
    return row


async def move(uow: UnitOfWork, *, from_person: str, to_person: str) -> None:
    """A merged id's waiting answers wait under the kept id from now on (its state holds them)."""
    await uow.session.execute(update(ParkedAnswerRow).where(ParkedAnswerRow.person_id == from_person)
                              .values(person_id=to_person))


async def start_waits(uow: UnitOfWork, last_day: Callable[[date], date]) -> None:
    """The first day tick after an answer arrived starts its wait: `last_day(answer_on)` is when it ends."""
    rows = (await uow.session.exec(select(ParkedAnswerRow).where(ParkedAnswerRow.waits_until.is_(None)))).all()
    for row in rows:
        row.waits_until = last_day(row.answer_on)
        uow.session.add(row)
    if rows:
        await uow.session.flush()


def due_query(day: date) -> SelectOfScalar[ParkedAnswerRow]:
    """The waiting answers whose wait ended before `day`, through the `waits_until` index: no ORDER BY here,
    which SQLite serves by walking the `person_id` index, that is every answer waiting."""
    return select(ParkedAnswerRow).where(ParkedAnswerRow.waits_until < day)


async def due(uow: UnitOfWork, day: date) -> dict[str, list[ParkedAnswerRow]]:
    """The waiting answers whose wait ended before `day`, by person (in person order, each person's in event
    order): a few a day, sorted here."""
    rows = sorted((await uow.session.exec(due_query(day))).all(), key=lambda r: (r.person_id, r.event_id))
    out: dict[str, list[ParkedAnswerRow]] = {}
    for row in rows:
        out.setdefault(row.person_id, []).append(row)
    return out
