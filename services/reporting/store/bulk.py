"""The replay's bulk write: every folded document in one transaction, through the database driver itself.

The rows and the statement are those of `documents.write_state` (the same upsert, the same stored text and
write number), but the rows go to the driver's own `executemany` as plain tuples: SQLAlchemy's executemany
built and processed a parameter dict per row, which cost more than the database's own work on a fresh store
(a 2,000-person year, 7,485 documents, at a load of 3: 159 ms of CPU through SQLAlchemy, 99 ms through the
driver, 44 ms of which encode the documents; SQLite alone, called directly, 34 ms).
Drivers other than aiosqlite and asyncpg take SQLAlchemy's path, as before.

Into a store that holds no document (the replay's fresh store), PostgreSQL takes the rows by COPY: no row can
conflict, and COPY skips the per-row statement, its plan and its conflict check (a 5,000-person year, about
20,000 documents: the store's write and the report beside it, median 0.50 s by the upsert, 0.39 s by COPY,
two alternated pairs).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.documents import State
from services.reporting.store.documents import BULK_CHUNK, _next_seq, _upsert_many, encode, owner, write_state
from services.reporting.store.schema import document_table

# The drivers whose connection has an awaitable executemany(sql, sequence of tuples) taking the compiled SQL
# of SQLAlchemy's dialect for them (qmark for aiosqlite, $n for asyncpg).
DRIVERS = frozenset({"aiosqlite", "asyncpg"})
COLUMNS = ("key", "kind", "doc", "person", "seq")


def _rows(state: State, seq: int, start: int, keys: list[str]) -> Iterator[tuple]:
    for key in keys[start:start + BULK_CHUNK]:
        doc = state[key]
        yield key, doc["kind"], encode(doc), owner(key, doc), seq


async def write_state_bulk(engine: AsyncEngine, state: State, *, empty: bool = False) -> None:
    """Write a whole projection: one statement, executed by the driver over every row, in chunks of
    BULK_CHUNK rows, in one transaction; in key order, as `write_state` does. `empty`: the caller knows the
    store holds no document (PostgreSQL then copies the rows in)."""
    dialect = engine.dialect
    if dialect.driver not in DRIVERS:
        await write_state(engine, state)
        return
    compiled = _upsert_many(dialect.name).compile(dialect=dialect)
    if tuple(compiled.positiontup or ()) != COLUMNS:  # the tuples below are in this order
        raise RuntimeError(f"unexpected parameter order {compiled.positiontup} for {dialect.name}")
    sql = str(compiled)
    keys = sorted(state)
    async with engine.begin() as conn:
        seq = (await conn.execute(_next_seq(dialect.name))).scalar_one()
        driver = (await conn.get_raw_connection()).driver_connection
        copy = empty and dialect.name == "postgresql"
        for start in range(0, len(keys), BULK_CHUNK):
            rows = list(_rows(state, seq, start, keys))
            if copy:
                await driver.copy_records_to_table(document_table.name, records=rows, columns=COLUMNS)
            else:
                await driver.executemany(sql, rows)
