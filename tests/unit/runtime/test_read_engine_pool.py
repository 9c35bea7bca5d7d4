"""The SQLite read engine keeps its connections: a service that reads on every request (intake: each POST reads
its key and its outbox rows) does not open a new connection, with its own driver thread, per request.

On a real SQLite file: rounds of concurrent reads, as many at once as the pool keeps, and the connections the
driver opened are counted."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.runtime.db import READ_CONNECTIONS, READ_OVERFLOW, make_read_engine


async def _reads_at_once(engine: AsyncEngine, count: int) -> None:
    """`count` reads, each holding its connection until all of them hold one."""
    all_in = asyncio.Barrier(count)

    async def one() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await all_in.wait()

    await asyncio.wait_for(asyncio.gather(*(one() for _ in range(count))), timeout=30)


def _counting_connects(engine: AsyncEngine) -> list[int]:
    opened = [0]

    @event.listens_for(engine.sync_engine, "connect")
    def _opened(_dbapi_connection, _record) -> None:  # noqa: ANN001
        opened[0] += 1

    return opened


async def test_rounds_of_concurrent_reads_reuse_the_connections_the_first_round_opened(tmp_path: Path) -> None:
    engine = make_read_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    opened = _counting_connects(engine)
    try:
        for _ in range(5):
            await _reads_at_once(engine, READ_CONNECTIONS)
    finally:
        await engine.dispose()
    # SQLAlchemy's default pool (5 kept, 10 more for a while) opened 12, then 7 again each round: 40 here.
    assert opened[0] == READ_CONNECTIONS


async def test_a_burst_past_the_kept_connections_is_served_not_queued_behind_itself(tmp_path: Path) -> None:
    engine = make_read_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    opened = _counting_connects(engine)
    try:
        # Every read holds its connection until all hold one: without the overflow this would wait forever.
        await _reads_at_once(engine, READ_CONNECTIONS + READ_OVERFLOW)
        await _reads_at_once(engine, READ_CONNECTIONS)
    finally:
        await engine.dispose()
    assert opened[0] == READ_CONNECTIONS + READ_OVERFLOW  # the second round took only kept connections
