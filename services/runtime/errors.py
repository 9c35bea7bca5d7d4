"""How the runtime tells a failure worth retrying from one that never will succeed."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


class TransientError(Exception):
    """Raise from a handler when trying again later may succeed (a partner API down, a lock)."""


class PermanentError(Exception):
    """Raise from a handler when the event can never be applied (impossible for the domain)."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (TransientError, OperationalError, InterfaceError, ConnectionError, asyncio.TimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)

