"""What one transaction already read of intake's rows, so that a batch's events are looked up in one query each.

A consumed batch (or a group of HTTP requests) is admitted in one transaction, and every event of it used to
look up its own rows one statement at a time: is (source, id) known, is its id published, the partner's
reference, the person. `load` reads the rows a whole batch will ask for in one statement: the rows found join
the session's identity map (where `session.get` finds them without a statement), and the keys not found are
remembered as absent, so that `get` answers None for them without asking the database again.

An absent key stays true within the transaction as long as the rows are only written through the ORM session:
a row added is found by `get` while pending (not flushed yet) and once flushed, before its key is taken for
absent. A bulk statement that gives a row a new primary key (an erasure's `forget`) calls `forget` first; any
rollback, a SAVEPOINT's included, forgets too (what it undid may have been remembered), and so does the commit.

A batch admitted in one go may also `gather` rows to insert at its end as plain rows (`Plain`, one executemany
per table: `write_gathered`) rather than as ORM objects, whose construction and unit of work cost more than the
rest of writing them. `get` finds them as it finds a pending row, before and after they are written. They are
written before any other statement of the session (as the ORM's autoflush writes its pending rows), before a
SAVEPOINT begins (so that its rollback cannot take them away) and, at the latest, before the commit; a rollback
of the whole transaction forgets them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, insert, inspect, tuple_
from sqlalchemy.orm import class_mapper
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

_ABSENT = "intake.known_absent"
_PENDING = "intake.known_pending"  # rows added and not flushed yet, by identity
_ROWS = "intake.known_rows"  # the identity map holds rows weakly: these stay found for the transaction
_CACHES = "intake.known_caches"
_BATCH = "intake.batch"  # set while a batch of events is admitted without a SAVEPOINT each (see `batched`)
_UNWRITTEN = "intake.unwritten_rows"  # model -> {primary key: Plain}: rows gathered, not written yet
_PLAIN = "intake.plain_rows"  # (model, primary key) -> Plain: rows gathered and written in this transaction
_HOOKED = "intake.rows_hooked"
# Statements stay well under SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 400


def cache(session: AsyncSession, name: str) -> dict[Any, Any]:
    """A dict of this transaction's knowledge, named `name`, emptied by `forget` and by any rollback."""
    caches: dict[str, dict[Any, Any]] | None = session.info.get(_CACHES)
    if caches is None:
        caches = session.info[_CACHES] = {}
        event.listen(session.sync_session, "after_soft_rollback", lambda sync, _previous: _forget(sync.info))
        event.listen(session.sync_session, "after_commit", lambda sync: _forget(sync.info))
        event.listen(session.sync_session, "pending_to_persistent", _written)
        event.listen(session.sync_session, "transient_to_pending", _added)
    return caches.setdefault(name, {})


_MAPPERS: dict[type, Any] = {}


def _mapper(model: type) -> Any:
    mapper = _MAPPERS.get(model)
    if mapper is None:
        mapper = _MAPPERS[model] = class_mapper(model)
    return mapper


def _key_of(model: type, key: Any) -> Any:
    """`Session.identity_key(model, key)` without looking the class's mapper up each time (a tenth of admitting's
    time went there: every look-up and every row added asks for one)."""
    return _mapper(model).identity_key_from_primary_key(tuple(key) if isinstance(key, (tuple, list)) else (key,))


def _key_of_row(instance: Any) -> Any:
    """`Session.identity_key(instance=...)`, likewise."""
    return _mapper(type(instance)).identity_key_from_instance(instance)


def _absent(session: AsyncSession) -> dict[Any, Any]:
    return cache(session, _ABSENT)


def _added(sync: Any, instance: Any) -> None:
    sync.info[_CACHES].setdefault(_PENDING, {})[_key_of_row(instance)] = instance


def _written(sync: Any, instance: Any) -> None:
    """A row added in this transaction was flushed: its key is no longer absent, and it stays found (the
    identity map alone would let it go once nothing else refers to it)."""
    caches = sync.info.get(_CACHES, {})
    ident = _key_of_row(instance)
    caches.get(_ABSENT, {}).pop(ident, None)
    caches.get(_PENDING, {}).pop(ident, None)
    caches.setdefault(_ROWS, {})[ident] = instance


def _forget(info: dict[Any, Any]) -> None:
    for known in info.get(_CACHES, {}).values():
        known.clear()


def forget(session: AsyncSession) -> None:
    """Rows are about to change keys outside the ORM's sight: what was read as absent may not be any more."""
    _forget(session.info)


class Plain:
    """A row gathered for a batch's end (`gather`): its columns as attributes, which is all `get`'s callers read
    of it, without the ORM's bookkeeping (no instance state, no identity map, no unit of work)."""

    def __init__(self, **columns: Any) -> None:
        self.__dict__.update(columns)


def _pk(key: Any) -> tuple[Any, ...]:
    return tuple(key) if isinstance(key, (tuple, list)) else (key,)


def plain(session: AsyncSession, model: type, key: Any) -> Plain | None:
    """The row of this primary key gathered in this transaction (written since or not), or None."""
    key = _pk(key)
    unwritten = session.info.get(_UNWRITTEN)
    if unwritten:
        row = unwritten.get(model, {}).get(key)
        if row is not None:
            return row
    written = session.info.get(_CACHES, {}).get(_PLAIN)
    return written.get((model, key)) if written else None


def unwritten(session: AsyncSession, model: type, key: Any) -> bool:
    """True if the row of this key was gathered and not written yet: changing the `Plain` changes what is written."""
    return _pk(key) in session.info.get(_UNWRITTEN, {}).get(model, {})


def plain_rows(session: AsyncSession, model: type) -> list[Plain]:
    """Every row of `model` gathered in this transaction (written since or not)."""
    written = session.info.get(_CACHES, {}).get(_PLAIN, {})
    return [*session.info.get(_UNWRITTEN, {}).get(model, {}).values(),
            *(row for (of, _key), row in written.items() if of is model)]


def gather(session: AsyncSession, model: type, key: Any, row: Plain) -> None:
    """Insert `row` (every row of a model with the same columns) at the batch's end; `get` answers it until then
    and after. Only while `batched`: inside a SAVEPOINT a row is written within it, through the ORM."""
    assert batched(session), "rows are gathered only for a batch admitted in one go"
    _hook(session)
    session.info.setdefault(_UNWRITTEN, {}).setdefault(model, {})[_pk(key)] = row


def _write(info: dict[Any, Any], execute: Any) -> None:
    """Insert the gathered rows, a statement per table over its rows; they stay found (`plain`) once written."""
    rows_of = info.pop(_UNWRITTEN, None)
    if not rows_of:
        return
    written = info[_CACHES].setdefault(_PLAIN, {})
    for model, rows in rows_of.items():
        execute(insert(model.__table__), [vars(row) for row in rows.values()])  # type: ignore[attr-defined]
        written.update(((model, key), row) for key, row in rows.items())


async def write_gathered(session: AsyncSession) -> None:
    """What `gather` left to write, now (the batch's end: store.known.start_batch)."""
    if session.info.get(_UNWRITTEN):
        await session.run_sync(lambda sync: _write(sync.info, sync.execute))


def _hook(session: AsyncSession) -> None:
    """Gathered rows are written before any other statement, before a SAVEPOINT and before the commit, and are
    forgotten when the whole transaction rolls back (see the module's docstring)."""
    if session.info.get(_HOOKED):
        return
    session.info[_HOOKED] = True
    cache(session, _PLAIN)  # and the listeners that forget what a rollback undid
    sync_session = session.sync_session

    def before_statement(state: Any) -> None:
        if state.session.info.get(_UNWRITTEN):
            _write(state.session.info, state.session.execute)

    def before_savepoint(sync: Any, transaction: Any) -> None:
        if transaction.nested and sync.info.get(_UNWRITTEN):
            # The SAVEPOINT is not begun yet: written on the enclosing transaction's connection, outside it.
            _write(sync.info, transaction.parent.connection(None).execute)

    def before_commit(sync: Any) -> None:
        if not sync.in_nested_transaction():
            _write(sync.info, sync.execute)

    def after_rollback(sync: Any, previous: Any) -> None:
        if not previous.nested:
            sync.info.pop(_UNWRITTEN, None)

    event.listen(sync_session, "do_orm_execute", before_statement)
    event.listen(sync_session, "after_transaction_create", before_savepoint)
    event.listen(sync_session, "before_commit", before_commit)
    event.listen(sync_session, "after_soft_rollback", after_rollback)


def drop_plain(session: AsyncSession, model: type, key: Any) -> None:
    """A written row is to change through the ORM: `get` reads it from the database from now on."""
    session.info.get(_CACHES, {}).get(_PLAIN, {}).pop((model, _pk(key)), None)
    _absent(session).pop(_key_of(model, key), None)


async def get(session: AsyncSession, model: type, key: Any) -> Any:
    """`session.get(model, key)`, without a statement when a `load` of this transaction found no such row."""
    if session.info.get(_HOOKED):
        row = plain(session, model, key)
        if row is not None:
            return row
    sync = session.sync_session
    ident = _key_of(model, key)
    # A row added but not flushed yet is in no map: it is the answer (`session.get` would flush it first).
    pending = cache(session, _PENDING).get(ident)
    if pending is not None and inspect(pending).pending:
        return pending
    found = sync.identity_map.get(ident)
    if found is not None:
        state = inspect(found)
        if not state.expired and not state.expired_attributes and not state.deleted:
            return found  # what `session.get` answers from the map, without its hand-off to the sync session
    elif ident in _absent(session):
        return None
    row = await session.get(model, key)
    if row is None:
        # Absent now, and so for the rest of the transaction unless this session adds it (see the module's
        # docstring): the same miss asked again (a registration's new id, looked up twice) costs no statement.
        _absent(session)[ident] = True
    return row


def mark_absent(session: AsyncSession, model: type, keys: Iterable[tuple[Any, ...]]) -> None:
    """These rows are known not to exist (the caller knows why: e.g. the person they belong to is created in
    this transaction): `get` answers None for them without a statement, until this session adds them."""
    _absent(session).update((_key_of(model, key), True) for key in keys)


def start_batch(session: AsyncSession) -> None:
    """The transaction admits a batch of events without a SAVEPOINT each, and whoever calls this writes what
    the stores gathered (`batched`) before it commits (store.entitlements.write_gathered, and a flush)."""
    session.info[_BATCH] = True


def batched(session: AsyncSession) -> bool:
    """True when writes may wait for the batch's end: a batch admitted in one go, not inside a SAVEPOINT (an
    event applied isolated writes its rows inside its own SAVEPOINT, so that a failure is its own)."""
    return bool(session.info.get(_BATCH)) and not session.in_nested_transaction()


async def load(session: AsyncSession, model: type, keys: Iterable[tuple[Any, ...]]) -> None:
    """Read the rows of these primary keys (tuples in the table's key order), a chunk per statement."""
    sync = session.sync_session
    columns = [column for column in model.__table__.primary_key.columns]  # type: ignore[attr-defined]
    wanted = [key for key in dict.fromkeys(keys) if _key_of(model, key) not in sync.identity_map
              and (not session.info.get(_HOOKED) or plain(session, model, key) is None)]
    absent = _absent(session)
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i:i + CHUNK]
        if len(columns) == 1:
            condition = columns[0].in_([key[0] for key in chunk])
        else:
            condition = tuple_(*columns).in_(chunk)
        rows = cache(session, _ROWS)
        for row in (await session.exec(select(model).where(condition))).all():
            rows[_key_of_row(row)] = row
        found = rows.keys()
        absent.update((ident, True) for key in chunk if (ident := _key_of(model, key)) not in found)
