"""How the runtime tells a failure worth retrying from one that never will succeed."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


class TransientError(Exception):
    """Raise from a handler when trying again later may succeed (a partner API down, a lock)."""


class PermanentError(Exception):
    """Raise from a handler when the event can never be applied (impossible for the domain)."""


# SQLSTATE classes and codes that say "the database is not there right now", not "this statement is wrong":
# 08 connection exceptions, 57P0x the server shutting down or not yet accepting connections (a restart),
# 53 insufficient resources, 40001/40P01 serialization failure and deadlock, 55P03 lock not available.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53")
_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "40001", "40P01", "55P03"})


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, getattr(exc, "orig", None), getattr(getattr(exc, "orig", None), "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_transient(exc: BaseException) -> bool:
    # PoolTimeout: no connection free in time (on SQLite, the process's one write connection busy too long).
    if isinstance(exc, (TransientError, OperationalError, InterfaceError, ConnectionError, OSError,
                        asyncio.TimeoutError, PoolTimeout)):
        return True
    code = _sqlstate(exc)
    if code is not None and (code[:2] in _TRANSIENT_SQLSTATE_CLASSES or code in _TRANSIENT_SQLSTATES):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


# A write that lost a race with a concurrent transaction (PostgreSQL): a unique key another instance inserted
# first, a serialization failure or a deadlock. Not an outage, so never a 503 by itself; the transaction run again
# from the start sees the winner's rows. A real bug repeats on every attempt and ends as a dead letter.
_RACE_SQLSTATES = frozenset({"23505", "40001", "40P01"})


def is_write_race(exc: BaseException) -> bool:
    return _sqlstate(exc) in _RACE_SQLSTATES


def worth_retrying(exc: BaseException) -> bool:
    """What a consumer tries again, batch and all: an outage, or a write that lost a race."""
    return is_transient(exc) or is_write_race(exc)
