"""The read engine keeps its connections: a service that reads on every request (intake: each POST reads its key
and its outbox rows) does not open a new connection per request (on SQLite a new driver thread, on PostgreSQL a
new server process), and more reads at once than it keeps wait for one instead.

On the suite's real database (a SQLite file, or PostgreSQL in CI's second half); the connections the driver
opened are counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.runtime.db import PG_READ_CONNECTIONS, READ_CONNECTIONS, is_sqlite, make_read_engine

UrlFactory = Callable[[str], Awaitable[str]]  # tests/support/databases.py: a fresh database's URL by name


@asynccontextmanager
async def _read_engine(url_factory: UrlFactory) -> AsyncIterator[tuple[AsyncEngine, int, list[int]]]:
    """The read engine on a fresh database, the connections it keeps there, and a count of those it opened."""
    url = await url_factory("reads")
    engine = make_read_engine(url)
    opened = [0]

    @event.listens_for(engine.sync_engine, "connect")
    def _opened(_dbapi_connection, _record) -> None:  # noqa: ANN001
        opened[0] += 1

    try:
        yield engine, READ_CONNECTIONS if is_sqlite(url) else PG_READ_CONNECTIONS, opened
    finally:
        await engine.dispose()


async def _reads_at_once(engine: AsyncEngine, count: int, hold_s: float) -> list[int]:
    """`count` reads started together, each holding its connection `hold_s` after its answer."""
    answered: list[int] = []

    async def one(n: int) -> None:
        async with engine.connect() as conn:
            answered.append((await conn.execute(text(f"SELECT {n}"))).scalar_one())
            await asyncio.sleep(hold_s)

    await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(count))), timeout=60)
    return sorted(answered)


async def test_rounds_of_reads_reuse_the_connections_the_first_round_opened(database_url_factory: UrlFactory) -> None:
    async with _read_engine(database_url_factory) as (engine, kept, opened):
        for _ in range(5):
            assert await _reads_at_once(engine, kept, 0.02) == list(range(kept))
    # SQLAlchemy's default on SQLite (5 kept, 10 more for a while) opened 12, then 7 again each round: 40.
    assert opened[0] == kept


async def test_more_reads_at_once_than_kept_connections_wait_and_open_none(database_url_factory: UrlFactory) -> None:
    async with _read_engine(database_url_factory) as (engine, kept, opened):
        # Held a while, as under load: the reads past `kept` wait for one given back, and every read is answered.
        assert await _reads_at_once(engine, 3 * kept, 0.02) == list(range(3 * kept))
    assert opened[0] == kept  # the default pool opened 15 at once on SQLite, and more as it closed them
