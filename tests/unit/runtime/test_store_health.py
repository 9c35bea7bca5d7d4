"""What /health says of the store: fresh when the store answers at once, the last reading with its age when it
is busy (never a wait behind the store), "stale" when that reading is too old, and an outbox never called
empty by a reading taken before rows were committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.runtime.db import make_read_engine
from services.runtime.health import StoreHealth


class Outbox:
    """The outbox as the relay shows it: a pending count (which may be made to hang, as behind a busy store)
    and a count of changes."""

    def __init__(self) -> None:
        self.pending, self.changes = 0, 0
        self.open = asyncio.Event()
        self.open.set()

    async def count(self) -> int:
        await self.open.wait()
        return self.pending

    def commit(self, rows: int) -> None:
        self.pending += rows
        self.changes += 1


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_read_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        yield engine
    finally:
        await engine.dispose()


async def settled(store: StoreHealth) -> None:
    """The reading left hanging by a busy store ends once the store answers again."""
    if store._reading is not None:  # noqa: SLF001
        await asyncio.wait_for(store._reading, timeout=30)  # noqa: SLF001


def health(engine: AsyncEngine, outbox: Outbox, **kwargs: float) -> StoreHealth:
    return StoreHealth(engine, outbox.count, lambda: outbox.changes, **kwargs)


async def test_a_store_that_answers_is_read_fresh(engine: AsyncEngine) -> None:
    outbox = Outbox()
    store = health(engine, outbox, answer_within_s=5.0)
    outbox.commit(3)
    status, reading, _age = await store.database_check()
    assert (status, store.outbox_pending(reading)) == ("ok", 3)
    outbox.pending = 0  # the relay published them
    status, reading, _age = await store.database_check()
    assert (status, store.outbox_pending(reading)) == ("ok", 0)


async def test_a_busy_store_is_answered_from_the_last_reading_not_waited_for(engine: AsyncEngine) -> None:
    outbox = Outbox()
    store = health(engine, outbox, answer_within_s=0.01, stale_after_s=3600)
    outbox.commit(2)
    await store.database_check()
    outbox.open.clear()  # the store is busy: the next count does not come
    status, reading, _age = await asyncio.wait_for(store.database_check(), timeout=30)
    assert (status, reading.outbox_pending) == ("ok", 2)
    outbox.open.set()
    await settled(store)


async def test_rows_committed_after_a_reading_began_are_never_reported_as_an_empty_outbox(
        engine: AsyncEngine) -> None:
    outbox = Outbox()
    store = health(engine, outbox, answer_within_s=0.01, stale_after_s=3600)
    await store.database_check()  # empty, at rest
    outbox.open.clear()
    outbox.commit(1)  # a batch commits while the store is busy
    _status, reading, _age = await store.database_check()
    assert reading.outbox_pending == 0, "the last reading, taken before the commit"
    assert store.outbox_pending(reading) == 1
    outbox.open.set()
    await settled(store)


async def test_a_reading_too_old_to_trust_is_stale(engine: AsyncEngine) -> None:
    outbox = Outbox()
    store = health(engine, outbox, answer_within_s=0.01, stale_after_s=0.0)
    await store.database_check()
    outbox.open.clear()
    await asyncio.sleep(0.05)
    status, _reading, age = await store.database_check()
    assert status == "stale" and age > 0
    outbox.open.set()
    await settled(store)


async def test_an_unreachable_database_is_named(tmp_path: Path) -> None:
    engine = make_read_engine(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    try:
        status, reading, _age = await health(engine, Outbox(), answer_within_s=5.0).database_check()
    finally:
        await engine.dispose()
    assert status.startswith("failing: ") and reading.outbox_pending is None


async def test_the_background_loop_reads_again_once_the_outbox_changed(engine: AsyncEngine) -> None:
    outbox = Outbox()
    store = health(engine, outbox, refresh_s=3600, min_gap_s=0.0)
    stop = asyncio.Event()
    loop = asyncio.create_task(store.run(stop))
    try:
        while store.last is None:
            await asyncio.sleep(0.01)
        outbox.commit(4)
        while store.last.outbox_pending != 4:
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(loop, timeout=30)
