"""The clock's loop, and the publishing it shares with `ariane followup clock --from --to`.

Ticks go straight to Kafka through the runtime's publish-only FastStream broker, not through an outbox: the
clock has no state of its own to commit with them, and each tick's id is derived from its date, so a tick
sent twice (a restart, two clocks, a range re-emitted) is one tick in every consumer's inbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextlib import suppress
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import structlog

from services.clock.domain import day_of, seconds_until_next_midnight, tick_of
from services.runtime.broker import connected_broker, publish
from services.runtime.leadership import Lease
from services.runtime.tasks import BackgroundTask

if TYPE_CHECKING:
    from services.clock.app import ClockDeps

log = structlog.get_logger("ariane.clock")


async def publish_days(bootstrap: str, topic: str, days: Iterable[date]) -> int:
    """Publish the tick of each day, in order; returns how many were sent."""
    sent = 0
    async with connected_broker(bootstrap, service="clock") as broker:
        for day in days:
            await publish(broker, tick_of(day), topic)
            sent += 1
    return sent


async def tick_forever(deps: ClockDeps, stop: asyncio.Event) -> None:
    """Tick today at start (a duplicate id if already ticked), then at each midnight of the territory.

    Only the instance holding the clock's lease ticks: a second clock stands by and takes over if the first
    dies. (Doubled ticks would be harmless, their ids being the date, but one writer is the rule.)"""
    lease = Lease(deps.engine, f"clock-{deps.topic}")
    try:
        while await lease.acquire(stop):
            await _tick_while_leading(deps, lease, stop)
    finally:
        await lease.release()


async def _tick_while_leading(deps: ClockDeps, lease: Lease, stop: asyncio.Event) -> None:
    while not stop.is_set() and await lease.still_held():
        today = day_of(datetime.now(UTC), deps.zone)
        await publish_days(deps.bootstrap, deps.topic, [today])
        log.info("day_ticked", day=today.isoformat())
        # One second past midnight, so that "today" is surely the new day when the loop comes round.
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds_until_next_midnight(datetime.now(UTC), deps.zone) + 1)


def tasks(deps: ClockDeps) -> list[BackgroundTask]:
    return [BackgroundTask("ticks", lambda stop: tick_forever(deps, stop))]
