"""apply_once on a real database: an event is applied once, a duplicate is recognised, and a failing handler
is rolled back alone (its SAVEPOINT) while the rest of the transaction stands."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import Envelope
from services.runtime.apply import Applied, Where, apply_once
from services.runtime.db import make_engine, make_session_factory
from services.runtime.tables import runtime_tables
from services.runtime.unit_of_work import UnitOfWork

SERVICE = "applytest"
Sessions = async_sessionmaker[AsyncSession]
metadata = MetaData()
tables = runtime_tables(metadata, SERVICE)
notes = Table(f"{SERVICE}_note", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
              Column("text", String(64), nullable=False))


class Boom(Exception):
    pass


def event(n: int) -> Envelope:
    return Envelope(id=f"ev-{n}", source="test", type="test.noted", subject="p-1",
                    time=datetime(2026, 1, 5, 9, tzinfo=timezone.utc), data={"n": n})


async def write_note(ev: Envelope, uow: UnitOfWork) -> str:
    await uow.session.exec(insert(notes).values(text=ev.id))
    return f"noted {ev.id}"


async def write_then_fail(ev: Envelope, uow: UnitOfWork) -> str:
    await uow.session.exec(insert(notes).values(text=f"half of {ev.id}"))
    raise Boom(ev.id)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def apply_in_own_transaction(sessions: Sessions, ev: Envelope, where: Where,
                                   handle: Callable[[Envelope, UnitOfWork], Awaitable[object]] = write_note
                                   ) -> Applied:
    async with sessions() as session, session.begin():
        return await apply_once(UnitOfWork(session=session, tables=tables, service=SERVICE), ev, where, handle)


async def rows(sessions: Sessions) -> tuple[list[str], list[tuple]]:
    async with sessions() as session:
        texts = (await session.exec(select(notes.c.text).order_by(notes.c.id))).scalars().all()
        inbox = (await session.exec(select(tables.inbox.c.event_id, tables.inbox.c.topic, tables.inbox.c.partition,
                                           tables.inbox.c.offset).order_by(tables.inbox.c.event_id))).all()
    return list(texts), [tuple(r) for r in inbox]


async def test_an_event_is_applied_and_recorded_where_it_came_from(sessions: Sessions) -> None:
    applied = await apply_in_own_transaction(sessions, event(1), Where("ariane.partner.v1", 2, 41))
    assert applied == Applied(duplicate=False, result="noted ev-1")
    assert await rows(sessions) == (["ev-1"], [("ev-1", "ariane.partner.v1", 2, 41)])


async def test_an_event_seen_again_is_a_duplicate_and_not_handled_twice(sessions: Sessions) -> None:
    await apply_in_own_transaction(sessions, event(1), Where("http"))
    handled: list[str] = []

    async def must_not_run(ev: Envelope, uow: UnitOfWork) -> None:
        handled.append(ev.id)

    again = await apply_in_own_transaction(sessions, event(1), Where("ariane.partner.v1", 0, 7), must_not_run)
    assert again == Applied(duplicate=True, result=None)
    assert handled == []
    assert await rows(sessions) == (["ev-1"], [("ev-1", "http", -1, -1)])


async def test_a_failing_handler_is_rolled_back_alone(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        uow = UnitOfWork(session=session, tables=tables, service=SERVICE)
        await session.exec(insert(notes).values(text="before"))
        with pytest.raises(Boom):
            await apply_once(uow, event(1), Where("http"), write_then_fail)
        await apply_once(uow, event(2), Where("http"), write_note)
    # The failed event's half-write and inbox mark are gone; what came before and after it is committed.
    assert await rows(sessions) == (["before", "ev-2"], [("ev-2", "http", -1, -1)])
    # Not marked processed, so it may be applied later.
    retried = await apply_in_own_transaction(sessions, event(1), Where("http"))
    assert retried == Applied(duplicate=False, result="noted ev-1")


def counting_into(calls: list[str]):  # noqa: ANN201
    """write_note that also records which events its handler really ran for."""

    async def counting(ev: Envelope, uow: UnitOfWork) -> str:
        calls.append(ev.id)
        return await write_note(ev, uow)

    return counting


async def test_an_event_recorded_by_another_instance_meanwhile_is_a_duplicate_not_a_poison(
        sessions: Sessions) -> None:
    # Another instance applied ev-7 and committed after this transaction looked the batch up in the inbox
    # (a partition moving during a rebalance): the claim on the inbox row fails and nothing is applied twice.
    await apply_in_own_transaction(sessions, event(7), Where("other-instance"))
    calls: list[str] = []
    counting = counting_into(calls)

    async with sessions() as session, session.begin():
        uow = UnitOfWork(session=session, tables=tables, service=SERVICE)
        uow._absent.add("ev-7")  # noqa: SLF001 - the stale look-up the race leaves behind
        applied = await apply_once(uow, event(7), Where("this-instance"), counting)
        assert applied == Applied(duplicate=True)
        assert await apply_once(uow, event(8), Where("this-instance"), counting) == Applied(False, "noted ev-8")
    assert calls == ["ev-8"]
    assert await rows(sessions) == (["ev-7", "ev-8"], [("ev-7", "other-instance", -1, -1), ("ev-8", "this-instance", -1, -1)])


async def test_a_batch_claims_its_inbox_rows_at_once_and_skips_those_another_instance_recorded(
        sessions: Sessions) -> None:
    # ev-7 was applied by another instance; a batch of ev-7 and ev-8 writes its inbox rows in one statement
    # up front: ev-7 is a duplicate whose handler never runs, ev-8 is applied once.
    await apply_in_own_transaction(sessions, event(7), Where("other-instance"))
    calls: list[str] = []
    counting = counting_into(calls)

    async with sessions() as session, session.begin():
        uow = UnitOfWork(session=session, tables=tables, service=SERVICE)
        await uow.claim([("ev-7", "topic", 0, 1), ("ev-8", "topic", 0, 2), ("ev-8", "topic", 0, 3)])
        assert await apply_once(uow, event(7), Where("topic", 0, 1), counting) == Applied(duplicate=True)
        assert await apply_once(uow, event(8), Where("topic", 0, 2), counting) == Applied(False, "noted ev-8")
        assert await apply_once(uow, event(8), Where("topic", 0, 3), counting) == Applied(duplicate=True)
    assert calls == ["ev-8"]
    assert await rows(sessions) == (["ev-7", "ev-8"], [("ev-7", "other-instance", -1, -1), ("ev-8", "topic", 0, 2)])


async def test_a_claimed_event_whose_handler_fails_is_rolled_back_alone_and_stays_claimed(sessions: Sessions) -> None:
    # The claim is written before the event's SAVEPOINT, so the failure takes the handler's writes only; the
    # event is not processed yet (the consumer dead-letters it next, and that marks it).
    async with sessions() as session, session.begin():
        uow = UnitOfWork(session=session, tables=tables, service=SERVICE)
        await uow.claim([("ev-1", "topic", 0, 1), ("ev-2", "topic", 0, 2)])
        with pytest.raises(Boom):
            await apply_once(uow, event(1), Where("topic", 0, 1), write_then_fail)
        assert not await uow.already_processed("ev-1")
        await uow.mark_processed("ev-1", "topic", 0, 1)  # as the dead letter does
        assert await uow.already_processed("ev-1")
        await apply_once(uow, event(2), Where("topic", 0, 2), write_note)
    assert await rows(sessions) == (["ev-2"], [("ev-1", "topic", 0, 1), ("ev-2", "topic", 0, 2)])
