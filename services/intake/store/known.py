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
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

_ABSENT = "intake.known_absent"
_PENDING = "intake.known_pending"  # rows added and not flushed yet, by identity
_ROWS = "intake.known_rows"  # the identity map holds rows weakly: these stay found for the transaction
_CACHES = "intake.known_caches"
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


def _absent(session: AsyncSession) -> dict[Any, Any]:
    return cache(session, _ABSENT)


def _added(sync: Any, instance: Any) -> None:
    sync.info[_CACHES].setdefault(_PENDING, {})[sync.identity_key(instance=instance)] = instance


def _written(sync: Any, instance: Any) -> None:
    """A row added in this transaction was flushed: its key is no longer absent, and it stays found (the
    identity map alone would let it go once nothing else refers to it)."""
    caches = sync.info.get(_CACHES, {})
    ident = sync.identity_key(instance=instance)
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
    ident = sync.identity_key(model, key)
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
    return await session.get(model, key)


async def load(session: AsyncSession, model: type, keys: Iterable[tuple[Any, ...]]) -> None:
    """Read the rows of these primary keys (tuples in the table's key order), a chunk per statement."""
    sync = session.sync_session
    columns = [column for column in model.__table__.primary_key.columns]  # type: ignore[attr-defined]
    wanted = [key for key in dict.fromkeys(keys) if sync.identity_key(model, key) not in sync.identity_map]
    absent = _absent(session)
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i:i + CHUNK]
        if len(columns) == 1:
            condition = columns[0].in_([key[0] for key in chunk])
        else:
            condition = tuple_(*columns).in_(chunk)
        rows = cache(session, _ROWS)
        for row in (await session.exec(select(model).where(condition))).all():
            rows[sync.identity_key(instance=row)] = row
        found = rows.keys()
        absent.update((ident, True) for key in chunk if (ident := sync.identity_key(model, key)) not in found)
