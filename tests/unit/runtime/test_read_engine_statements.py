"""On PostgreSQL the read engine sends each read statement alone: no BEGIN before it, no ROLLBACK when its
connection is given back, no transaction left open between two reads of a session. Each of those was a round trip
that a POST's key lookup waited for (and then for a turn of the event loop).

PostgreSQL's now() is the start of the current transaction: two statements of one transaction get the same time,
two statements sent alone get their own. On SQLite the read engine keeps one snapshot per read session (BEGIN
DEFERRED under WAL), so the test is for the suite's PostgreSQL half."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text

from services.runtime.db import is_sqlite, make_read_engine, make_session_factory

UrlFactory = Callable[[str], Awaitable[str]]  # tests/support/databases.py: a fresh database's URL by name


async def test_a_read_session_on_postgresql_sends_each_statement_alone(database_url_factory: UrlFactory) -> None:
    url = await database_url_factory("alone")
    if is_sqlite(url):
        pytest.skip("SQLite's read sessions keep one snapshot each (BEGIN DEFERRED): for the PostgreSQL half")
    engine = make_read_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            first = (await session.execute(text("SELECT now()"))).scalar_one()
            await asyncio.sleep(0.05)
            second = (await session.execute(text("SELECT now()"))).scalar_one()
            # Seen from another connection, this one holds no transaction between its reads.
            async with engine.connect() as other:
                states = (await other.execute(text(
                    "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))).scalars().all()
    finally:
        await engine.dispose()
    assert (second - first).total_seconds() >= 0.04, "both reads ran in one transaction"
    assert states and "idle in transaction" not in states, states
