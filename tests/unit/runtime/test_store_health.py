"""What /health says of the store: fresh when the store answers at once, the last reading with its age when it
is busy (never a wait behind the store) and at once when readings are slow, "stale" when that reading is too
old, and an outbox never called empty by a reading taken before rows were committed."""

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


class SlowOutbox(Outbox):
    """An outbox whose count takes `delay_s`, as on a loaded service (the loop's turns, the driver's thread)."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    async def count(self) -> int:
        await asyncio.sleep(self.delay_s)
        return await super().count()


# A request would wait up to WITHIN for a fresh reading; a slow reading takes SLOW (each well apart from the
# other and from AT_ONCE, the bound on an answer given at once, so that a loaded test machine does not blur them).
WITHIN, SLOW, AT_ONCE = 0.5, 1.5, 0.3


async def test_once_a_reading_was_slow_the_last_one_is_answered_at_once_and_fresh_ones_come_back_at_rest(
        engine: AsyncEngine) -> None:
    outbox = SlowOutbox(delay_s=SLOW)  # a loaded service: a reading takes longer than a request would wait
    store = health(engine, outbox, answer_within_s=WITHIN, stale_after_s=3600)
    outbox.commit(2)
    await store.database_check()  # the first reading is always waited for
    outbox.commit(3)
    # The latest reading was slow: the answer is the last reading, at once, not after waiting WITHIN in vain.
    status, reading, _age = await asyncio.wait_for(store.database_check(), timeout=AT_ONCE)
    assert (status, reading.outbox_pending, store.outbox_pending(reading)) == ("ok", 2, 2)
    await settled(store)
    outbox.delay_s = 0.0  # at rest again: readings are quick
    outbox.pending = 0
    outbox.changes += 1  # the relay published them
    await store.database_check()  # the latest reading was slow, so it is answered; the one it starts is quick
    await settled(store)
    status, reading, _age = await store.database_check()
    assert (status, store.outbox_pending(reading)) == ("ok", 0), "waited for again, and fresh"


async def test_while_a_reading_is_slow_under_way_the_last_one_is_answered_at_once(engine: AsyncEngine) -> None:
    outbox = SlowOutbox(delay_s=0.0)
    store = health(engine, outbox, answer_within_s=WITHIN, stale_after_s=3600)
    outbox.commit(1)
    await store.database_check()  # quick
    outbox.delay_s = SLOW  # the service gets loaded
    outbox.commit(1)
    began = asyncio.get_running_loop().time()
    _status, reading, _age = await store.database_check()  # the latest was quick: waited for, WITHIN, in vain
    assert reading.outbox_pending == 1 and asyncio.get_running_loop().time() - began >= WITHIN
    # That reading has been under way longer than WITHIN: no more waiting for it.
    _status, reading, _age = await asyncio.wait_for(store.database_check(), timeout=AT_ONCE)
    assert reading.outbox_pending == 1
    await settled(store)
    assert store.last is not None and store.last.outbox_pending == 2


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
