"""The day clock: one clock.day_started per Europe/Paris day, its id derived from the date.

A restarted or doubled clock produces the same ids, so consumers' inboxes keep one tick per day.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from contracts.clock import DayStarted
from contracts.topics import CLOCK
from services.followup.facts import PARIS


def days_between(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def seconds_until_next_midnight(now: datetime) -> float:
    local = now.astimezone(PARIS)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PARIS)
    return max(0.0, (midnight - local).total_seconds())


async def publish_days(bootstrap: str, topic_prefix: str, days: list[date]) -> int:
    from services.runtime.broker import connected_broker, publish

    async with connected_broker(bootstrap, service="clock") as broker:
        for day in days:
            await publish(broker, DayStarted.for_day(day), topic_prefix + CLOCK)
    return len(days)


async def run_forever(bootstrap: str, topic_prefix: str) -> None:
    """Tick today at start (a duplicate id if already ticked), then at each Paris midnight."""
    while True:
        today = datetime.now(PARIS).date()
        await publish_days(bootstrap, topic_prefix, [today])
        await asyncio.sleep(seconds_until_next_midnight(datetime.now(PARIS)) + 1)
