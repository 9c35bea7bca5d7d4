"""Outbox rows become visible in id order, with the ordering lock asked for once per transaction.

The relay's mark ("every row below this id is on Kafka") is sound only if a row with a lower id never commits
after a higher one. On PostgreSQL two transactions could do that; a transaction-scoped lock serialises them. A
consumed batch emits many events, so the lock is asked for once per transaction, except inside a SAVEPOINT,
whose rollback would release it. On SQLite the single writer already orders them and no lock is asked for.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import Envelope
from services.runtime.db import make_engine
from services.runtime.unit_of_work import UnitOfWork

from counter_service import DEFINITION, Base

TABLES = DEFINITION.tables


def _event(n: int) -> Envelope:
    return Envelope(id=f"order-{n}", source="ariane/counter", type="test.counted", subject=f"p_{n:03d}",
                    time=datetime(2026, 1, 1, tzinfo=UTC), data={"n": n})


async def _engine(database_url: str):  # noqa: ANN202
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine


def _count_lock_requests(engine) -> list[str]:  # noqa: ANN001
    seen: list[str] = []

    @sa_event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202, ARG001
        if "pg_advisory_xact_lock" in statement:
            seen.append(statement)

    return seen


async def _outbox_ids(engine) -> list[str]:  # noqa: ANN001
    async with AsyncSession(engine) as session:
        rows = await session.exec(select(TABLES.outbox.c.event_id).order_by(TABLES.outbox.c.id))
        return [r[0] for r in rows]


async def test_a_batch_asks_for_the_ordering_lock_once_and_a_savepoint_each_time(database_url, database_backend):
    engine = await _engine(database_url)
    locks = _count_lock_requests(engine)
    try:
        async with AsyncSession(engine) as session, session.begin():
            uow = UnitOfWork(session=session, tables=TABLES, service="counter")
            for n in range(5):
                await uow.emit(_event(n), "counter.out")
        at_outer_level = len(locks)

        async with AsyncSession(engine) as session, session.begin():
            uow = UnitOfWork(session=session, tables=TABLES, service="counter")
            for n in range(5, 8):
                async with session.begin_nested():
                    await uow.emit(_event(n), "counter.out")
        in_savepoints = len(locks) - at_outer_level

        assert await _outbox_ids(engine) == [f"order-{n}" for n in range(8)]
        if database_backend == "postgresql":
            assert (at_outer_level, in_savepoints) == (1, 3)
        else:
            assert (at_outer_level, in_savepoints) == (0, 0)
    finally:
        await engine.dispose()


async def test_a_second_writer_waits_for_the_first_to_commit(database_url):
    """The first transaction emits (taking the lock), then keeps working: the second one's emit must not
    allocate an id before the first commits, even after the first's later emits skipped the lock."""
    engine = await _engine(database_url)
    try:
        first_emitted, second_done = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with AsyncSession(engine) as session, session.begin():
                uow = UnitOfWork(session=session, tables=TABLES, service="counter")
                await uow.emit(_event(1), "counter.out")
                first_emitted.set()
                await asyncio.sleep(1.0)  # the second writer starts meanwhile
                await uow.emit(_event(2), "counter.out")
                assert not second_done.is_set(), "a second writer allocated an outbox id inside the first's transaction"

        async def second() -> None:
            await first_emitted.wait()
            async with AsyncSession(engine) as session, session.begin():
                uow = UnitOfWork(session=session, tables=TABLES, service="counter")
                await uow.emit(_event(3), "counter.out")
            second_done.set()

        # On SQLite the second waits on the file's write lock (transactions begin IMMEDIATE), on PostgreSQL on
        # the ordering lock; either way its row comes after both of the first's.
        await asyncio.gather(first(), second())
        assert await _outbox_ids(engine) == ["order-1", "order-2", "order-3"]
    finally:
        await engine.dispose()
