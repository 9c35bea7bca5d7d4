"""Reading and writing the projection's documents, once per consumed batch.

Handlers fold events into a per-transaction cache of documents (`BatchCache`, kept in the session's `info`);
the cache is written with one multi-row upsert when the batch's transaction commits (never at a savepoint),
so a batch of 500 events touching 300 documents costs one statement, not 500.

A document is stored as canonical JSON, its rows as arrays; `typed` gives the named rows back on reading.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from services.reporting.domain.documents import Doc, Patch, State, join, typed
from services.reporting.store.schema import document_table, tables

CACHE_KEY = "ariane_reporting_cache"
WRITE_CHUNK = 500
BULK_CHUNK = 20000


def encode(doc: Doc) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> Doc:
    return typed(json.loads(text))


def _upsert_many(dialect: str):  # noqa: ANN202
    """The upsert of one row, for executemany over many."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(document_table)
    return stmt.on_conflict_do_update(index_elements=["key"], set_={"doc": stmt.excluded.doc,
                                                                    "kind": stmt.excluded.kind})


def _upsert(dialect: str, rows: list[dict]):  # noqa: ANN202
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(document_table).values(rows)
    return stmt.on_conflict_do_update(index_elements=["key"], set_={"doc": stmt.excluded.doc,
                                                                    "kind": stmt.excluded.kind})


class BatchCache:
    """The documents touched by the current transaction, loaded once, written once at commit."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.dirty: set[str] = set()

    def flush(self, session: Session) -> None:
        if not self.dirty:
            return
        rows = [{"key": k, "kind": self.docs[k]["kind"], "doc": encode(self.docs[k])} for k in sorted(self.dirty)]
        dialect = session.get_bind().dialect.name
        for start in range(0, len(rows), WRITE_CHUNK):
            session.execute(_upsert(dialect, rows[start:start + WRITE_CHUNK]))
        self.dirty.clear()


def _flush_at_outer_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the batch is not over yet
    entry = session.info.get(CACHE_KEY)
    if entry is not None and entry[0] is session.get_transaction():
        entry[1].flush(session)


def batch_cache(async_session) -> BatchCache:  # noqa: ANN001 - sqlmodel AsyncSession
    """The cache of the session's current (outermost) transaction; a new transaction gets a new cache, so a
    rolled-back batch leaves nothing behind. The commit hook is set once per session."""
    sync = async_session.sync_session
    root = sync.get_transaction()
    entry = sync.info.get(CACHE_KEY)
    if entry is None or entry[0] is not root:
        entry = sync.info[CACHE_KEY] = (root, BatchCache())
    if not event.contains(sync, "before_commit", _flush_at_outer_commit):
        event.listen(sync, "before_commit", _flush_at_outer_commit)
    return entry[1]


async def apply_patches(async_session, patches: Iterable[Patch]) -> None:  # noqa: ANN001
    """Join patches into the cached documents; the new values replace the old ones only once all are made,
    so a failing handler leaves the cache as it was (its savepoint is rolled back alone)."""
    cache = batch_cache(async_session)
    updated: dict[str, Doc] = {}
    for key, patch in patches:
        current = updated.get(key)
        if current is None:
            current = cache.docs.get(key)
        if current is None and key not in cache.docs:
            row = (await async_session.execute(select(document_table.c.doc).where(document_table.c.key == key))).first()
            current = decode(row[0]) if row else None
        updated[key] = join(current, patch)
    cache.docs.update(updated)
    cache.dirty.update(updated)


async def load_state(engine: AsyncEngine) -> State:
    """Every document of the store, as the projection's state."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(document_table.c.key, document_table.c.doc))
        return {key: decode(doc) for key, doc in rows}


async def write_state(engine: AsyncEngine, state: State) -> None:
    """Write a whole projection in bulk (the replay's path): one statement compiled once and executed over
    every row (executemany), in chunks of BULK_CHUNK rows, in one transaction."""
    upsert = _upsert_many(engine.dialect.name)
    items = sorted(state.items())
    async with engine.begin() as conn:
        for start in range(0, len(items), BULK_CHUNK):
            rows = [{"key": k, "kind": d["kind"], "doc": encode(d)} for k, d in items[start:start + BULK_CHUNK]]
            await conn.execute(upsert, rows)


async def count_documents(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(document_table))).scalar_one()


async def events_applied(engine: AsyncEngine) -> int:
    """How many events the service has applied (its inbox size): the report changes only when this does."""
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(tables.inbox))).scalar_one()
