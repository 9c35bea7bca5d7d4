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
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect, tuple_
from sqlalchemy.orm import class_mapper
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

_ABSENT = "intake.known_absent"
_PENDING = "intake.known_pending"  # rows added and not flushed yet, by identity
_ROWS = "intake.known_rows"  # the identity map holds rows weakly: these stay found for the transaction
_CACHES = "intake.known_caches"
_BATCH = "intake.batch"  # set while a batch of events is admitted without a SAVEPOINT each (see `batched`)
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


async def get(session: AsyncSession, model: type, key: Any) -> Any:
    """`session.get(model, key)`, without a statement when a `load` of this transaction found no such row."""
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
    wanted = [key for key in dict.fromkeys(keys) if _key_of(model, key) not in sync.identity_map]
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
