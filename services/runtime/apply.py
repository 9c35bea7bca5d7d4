"""Apply one event exactly once inside a unit of work: the one way, for the Kafka consumer and HTTP alike.

The inbox row (keyed by event id) and the handler's writes commit together, so an event seen again (a
redelivery after a crash, the same request retried) is recognised and skipped. The handler runs inside a
SAVEPOINT: if it raises, its writes are rolled back alone and the caller decides what the failure means
(dead letter on Kafka, a per-event rejection over HTTP), while the rest of the transaction stands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError

from contracts.envelope import Envelope
from services.runtime.unit_of_work import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class Where:
    """Where an event came from, as the inbox records it (HTTP events have no partition or offset: -1)."""

    topic: str
    partition: int = -1
    offset: int = -1


@dataclass(frozen=True)
class Applied(Generic[T]):
    duplicate: bool
    result: T | None = None


class _ClaimedElsewhere(Exception):
    """Another transaction recorded this event id first (two instances during a rebalance)."""


async def apply_once(uow: UnitOfWork, event: Envelope, where: Where,
                     handle: Callable[[Envelope, UnitOfWork], Awaitable[T]], *, isolated: bool = True) -> Applied[T]:
    """Run `handle` for `event` unless its id is already in the inbox; record it there when it succeeds.

    The inbox row is written first, inside the same SAVEPOINT as the handler's writes: if the handler fails,
    both go; and if another instance is applying the same event concurrently (a partition that just moved),
    the primary key makes the second writer wait for the first and then fail on that row alone, which is
    recognised as a duplicate rather than taken for a poison event. A consumed batch writes its rows before
    (UnitOfWork.claim, one statement, with the same waiting and recognising): then none is written here, and
    a failing handler leaves the row for the dead letter that follows.

    `isolated=False` runs the handler of a claimed event without its SAVEPOINT (two statements fewer per
    event): the caller promises to roll the whole transaction back if it raises, since its writes cannot be
    taken away alone (the consumer then applies the batch again, isolated). An event not claimed ahead is
    always isolated: its inbox row may meet another instance's."""
    if await uow.already_processed(event.id):
        return Applied(duplicate=True)
    if not isolated and uow.is_claimed(event.id):
        result = await handle(event, uow)
        await uow.mark_processed(event.id, where.topic, where.partition, where.offset)  # claimed: no statement
        return Applied(duplicate=False, result=result)
    pending = len(uow.after_commit)
    try:
        async with uow.session.begin_nested():
            try:
                await uow.mark_processed(event.id, where.topic, where.partition, where.offset)
            except IntegrityError as exc:
                raise _ClaimedElsewhere from exc
            result = await handle(event, uow)
    except _ClaimedElsewhere:
        uow.forget(event.id)
        del uow.after_commit[pending:]
        return Applied(duplicate=True)
    except BaseException:
        uow.forget(event.id)  # the SAVEPOINT took the inbox row away with the handler's writes
        del uow.after_commit[pending:]  # and what was to be done once they committed
        raise
    return Applied(duplicate=False, result=result)
