"""A request waiting for its events to be on Kafka (intake's 202) is answered once the relay's Kafka
transaction has committed, even while the store's write lock is held by another writer (on SQLite an admission
group or a consumed batch, up to a second under load) and the relay's marking of the rows waits for it; a request
that starts waiting in between is answered at once too, though the store still says the rows are unpublished.
The round itself does not wait for the marking either: the next round can send while it waits, and never sends
the same rows again. The rows are marked published once the lock is free."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import select

from services.runtime import relay as relay_module
from services.runtime.db import make_read_engine, make_session_factory
from services.runtime.relay import OutboxRelay
from tests.unit.runtime.test_relay_wait_published import committed_rows, relay_of, store  # noqa: F401 - fixture


@asynccontextmanager
async def write_lock_held_elsewhere(path: Path) -> AsyncIterator[None]:
    """Another writer holds the store's one write lock until the block ends."""
    other_writer = sqlite3.connect(path, timeout=30, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()


async def published_at(relay: OutboxRelay) -> list[object]:
    async with relay.read_session_factory() as session:
        return list((await session.execute(select(relay.outbox.c.published_at))).scalars().all())


@asynccontextmanager
async def reading_as_the_service(relay: OutboxRelay, path: Path) -> AsyncIterator[None]:
    """The relay looks for rows through the read engine, as in the service: never waiting for the write lock."""
    read_engine = make_read_engine(f"sqlite+aiosqlite:///{path}")
    relay.read_session_factory = make_session_factory(read_engine)
    try:
        yield
    finally:
        await read_engine.dispose()


async def test_waiting_requests_are_answered_while_the_marking_waits_for_the_write_lock(
        store, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001, F811
    factory, tables = store
    monkeypatch.setattr(relay_module, "WAIT_POLL_S", 3600.0)  # only the relay's own publication can answer
    relay = relay_of(factory, tables)
    async with reading_as_the_service(relay, tmp_path / "svc.db"):
        ids = await committed_rows(factory, tables, 3)
        waiting = asyncio.create_task(relay.wait_published(ids, timeout=60))
        await asyncio.sleep(0)
        async with write_lock_held_elsewhere(tmp_path / "svc.db"):
            # The round ends once Kafka has the rows, the lock still held: the next one is free to send.
            assert await asyncio.wait_for(relay.publish_pending(), timeout=30) == 3
            assert await asyncio.wait_for(waiting, timeout=30) is True  # on Kafka: answered
            assert await published_at(relay) == [None, None, None]  # while the marking still waits
            assert await relay.publish_pending() == 0  # the store says unpublished: still not sent again
        await asyncio.wait_for(relay.marked(), timeout=30)
        marked = await published_at(relay)
    assert len(marked) == 3 and all(at is not None for at in marked)
    assert len(relay.producer.sent) == 3  # type: ignore[union-attr] - the fake broker: each row once


async def test_a_request_that_starts_waiting_between_kafka_and_the_marking_is_answered_at_once(
        store, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001, F811
    factory, tables = store
    monkeypatch.setattr(relay_module, "WAIT_POLL_S", 3600.0)
    relay = relay_of(factory, tables)
    async with reading_as_the_service(relay, tmp_path / "svc.db"):
        ids = await committed_rows(factory, tables, 2)
        async with write_lock_held_elsewhere(tmp_path / "svc.db"):
            publishing = asyncio.create_task(relay.publish_pending())
            for _ in range(3000):  # until the relay's Kafka transaction has committed (it then waits for the lock)
                if relay._on_kafka_unmarked:  # noqa: SLF001
                    break
                await asyncio.sleep(0.01)
            assert await published_at(relay) == [None, None]  # the store still says unpublished
            assert await relay.wait_published(ids, timeout=5) is True
            assert relay._waiting == {}  # noqa: SLF001 - nothing left behind for the next requests
        assert await asyncio.wait_for(publishing, timeout=30) == 2
