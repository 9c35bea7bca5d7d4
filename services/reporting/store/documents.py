"""Reading and writing the projection's documents, once per consumed batch.

Handlers fold events into a per-transaction cache of documents (`BatchCache`, kept in the session's `info`);
the documents a consumed batch will touch are read into it in one round (`preload`, one SELECT per
READ_CHUNK keys) and the cache is written with one upsert executed over every changed row when the batch's
transaction commits (never at a savepoint), so a batch of 500 events touching 300 documents costs two
statements, not 800.

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
from services.reporting.store.schema import document_table, sequence_table, tables

CACHE_KEY = "ariane_reporting_cache"
SEQUENCE = "documents"
READ_CHUNK = 500  # keys per SELECT of a preload
BULK_CHUNK = 20000


# Documents hold no cycles (plain values, rows, maps of rows): the encoder's cycle check is work for nothing.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False)


def encode(doc: Doc) -> str:
    return _ENCODER.encode(doc)


def decode(text: str) -> Doc:
    return typed(json.loads(text))


def _insert(dialect: str):  # noqa: ANN202
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _on_conflict(stmt):  # noqa: ANN001, ANN202
    return stmt.on_conflict_do_update(index_elements=["key"], set_={
        "doc": stmt.excluded.doc, "kind": stmt.excluded.kind, "person": stmt.excluded.person,
        "seq": stmt.excluded.seq})


def _upsert_many(dialect: str):  # noqa: ANN202
    """The upsert of one row, for executemany over many."""
    return _on_conflict(_insert(dialect)(document_table))


def _next_seq(dialect: str):  # noqa: ANN202
    """Take the next write number; on PostgreSQL its row stays locked until the commit, so writes commit in
    the order of their numbers and a reader that saw number n has seen every write before it."""
    stmt = _insert(dialect)(sequence_table).values(name=SEQUENCE, value=1)
    return stmt.on_conflict_do_update(index_elements=["name"], set_={"value": sequence_table.c.value + 1}
                                      ).returning(sequence_table.c.value)


def owner(key: str, doc: Doc) -> str | None:
    """Whose document it is: a person's or an alias's own id, else the person its facts were about."""
    kind, _, rest = key.partition(":")
    if kind in ("person", "alias"):
        return rest
    return doc.get("person")


def _row(key: str, doc: Doc, seq: int) -> dict:
    return {"key": key, "kind": doc["kind"], "doc": encode(doc), "person": owner(key, doc), "seq": seq}


class BatchCache:
    """The documents touched by the current transaction, loaded once, written once at commit."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc | None] = {}  # None: read, and not in the store
        self.dirty: set[str] = set()

    def flush(self, session: Session) -> None:
        if not self.dirty:
            return
        dialect = session.get_bind().dialect.name
        seq = session.execute(_next_seq(dialect)).scalar_one()
        rows = [_row(k, self.docs[k], seq) for k in sorted(self.dirty)]
        # One statement compiled once (cached) and executed by the driver over every row: a multi-row VALUES
        # was compiled anew for each batch, its bind parameters built row by row, most of a flush's cost.
        session.execute(_upsert_many(dialect), rows)
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


async def preload(async_session, keys: Iterable[str]) -> None:  # noqa: ANN001 - sqlmodel AsyncSession
    """Read into the transaction's cache, in one round, the documents of `keys` it does not hold yet (a consumed
    batch's, before its first event is folded): each event then joins in memory instead of reading its own."""
    cache = batch_cache(async_session)
    wanted = sorted({key for key in keys if key not in cache.docs})
    for start in range(0, len(wanted), READ_CHUNK):
        chunk = wanted[start:start + READ_CHUNK]
        rows = await async_session.execute(select(document_table.c.key, document_table.c.doc)
                                           .where(document_table.c.key.in_(chunk)))
        found = {key: decode(doc) for key, doc in rows}
        cache.docs.update((key, found.get(key)) for key in chunk)


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
    dialect = engine.dialect.name
    upsert = _upsert_many(dialect)
    items = sorted(state.items())
    async with engine.begin() as conn:
        seq = (await conn.execute(_next_seq(dialect))).scalar_one()
        for start in range(0, len(items), BULK_CHUNK):
            await conn.execute(upsert, [_row(k, d, seq) for k, d in items[start:start + BULK_CHUNK]])


async def count_documents(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(document_table))).scalar_one()


async def changed_since(engine: AsyncEngine, seq: int, *, decode_all: bool = True
                        ) -> tuple[int, list[tuple[str, str | None, Doc]]]:
    """The documents written after write number `seq` (key, person, document) and the latest number seen.
    With `decode_all=False` only aliases are decoded (the others come back as `{"kind": kind}`): a caller that
    reads these people's documents again anyway needs no more of them than who they belong to and the merges."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(document_table.c.key, document_table.c.person, document_table.c.kind,
                                          document_table.c.doc, document_table.c.seq)
                                   .where(document_table.c.seq > seq))).all()
    latest = max((row[4] for row in rows), default=seq)
    return latest, [(key, person, decode(doc) if decode_all or kind == "alias" else {"kind": kind})
                    for key, person, kind, doc, _ in rows]


async def documents_of(engine: AsyncEngine, persons: Iterable[str], chunk: int = 500) -> State:
    """Every document of these people (their person documents, aliases, referrals, barriers, stays...)."""
    wanted = sorted(set(persons))
    out: State = {}
    async with engine.connect() as conn:
        for start in range(0, len(wanted), chunk):
            rows = await conn.execute(select(document_table.c.key, document_table.c.doc)
                                      .where(document_table.c.person.in_(wanted[start:start + chunk])))
            out.update((key, decode(doc)) for key, doc in rows)
    return out


async def events_applied(engine: AsyncEngine) -> int:
    """How many events the service has applied (its inbox size): the report changes only when this does."""
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(tables.inbox))).scalar_one()
