"""From a service's HANDLERS table to the one handler the runtime calls for every consumed event.

Each service's handlers.py ends in a table `{EventClass: handler}`; a handler is `async (event, uow, deps)`.
Events of a type the table does not name are not this service's business: they are recorded as processed
and otherwise ignored, so a topic shared by many readers never dead-letters what one of them skips.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from contracts.envelope import Envelope
from services.runtime.unit_of_work import UnitOfWork

D = TypeVar("D")
Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]
TableHandler = Callable[[Any, UnitOfWork, D], Awaitable[Any]]
HandlerTable = Mapping[type[Envelope], TableHandler]


def route(table: HandlerTable, deps: D, *, otherwise: TableHandler | None = None) -> Handler:
    """One handler that dispatches on the event's class; `otherwise` takes the types the table does not name."""

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        fn = table.get(type(event), otherwise)
        if fn is not None:
            await fn(event, uow, deps)

    return handle
