"""A request waiting for its events to be on Kafka (intake's 202) is answered once the relay's Kafka
transaction has committed, even while the store's write lock is held by another writer (on SQLite an admission
group or a consumed batch, up to a second under load) and the relay's marking of the rows waits for it. The rows
are marked published once the lock is free."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import select

from services.runtime import relay as relay_module
from services.runtime.db import make_read_engine, make_session_factory
from tests.unit.runtime.test_relay_wait_published import committed_rows, relay_of, store  # noqa: F401 - fixture


async def test_waiting_requests_are_answered_while_the_marking_waits_for_the_write_lock(
        store, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001, F811
    factory, tables = store
    monkeypatch.setattr(relay_module, "WAIT_POLL_S", 3600.0)  # only the relay's own publication can answer
    relay = relay_of(factory, tables)
    read_engine = make_read_engine(f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}")
    relay.read_session_factory = make_session_factory(read_engine)  # as the service reads: never for the lock
    ids = await committed_rows(factory, tables, 3)
    waiting = asyncio.create_task(relay.wait_published(ids, timeout=60))
    await asyncio.sleep(0)

    other_writer = sqlite3.connect(tmp_path / "svc.db", timeout=30, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")  # another writer holds the one write lock
    try:
        publishing = asyncio.create_task(relay.publish_pending())
        assert await asyncio.wait_for(waiting, timeout=30) is True  # on Kafka: answered
        await asyncio.sleep(0.2)
        assert not publishing.done()  # the marking still waits for the lock
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()
        await read_engine.dispose()
    assert await asyncio.wait_for(publishing, timeout=30) == 3
    async with factory() as session:
        marked = (await session.execute(select(tables.outbox.c.published_at))).scalars().all()
    assert len(marked) == 3 and all(at is not None for at in marked)
