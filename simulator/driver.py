"""The day loop: each simulated day's partner events, then that day's clock tick, at a chosen pace.

`drained` is awaited after the partner events of a day (so every service has taken them in before the day's
tick decides deadlines) and after the tick. The demo and the end-to-end test pass one that checks the
consumer groups' lag; without it the year runs as fast as the broker takes it, and events of a day may race
the tick of that day across topics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from simulator.senders import Sender
from simulator.year import SimDay


@dataclass
class DriveStats:
    days: int = 0
    events: int = 0
    ticks: int = 0
    seconds: float = 0.0


async def drive(days: Iterable[SimDay], sender: Sender, *, drained: Callable[[], Awaitable[None]] | None = None,
                events_per_second: float | None = None,
                on_day: Callable[[SimDay], None] | None = None) -> DriveStats:
    stats = DriveStats()
    started = time.monotonic()
    for day in days:
        for i in range(0, len(day.events), 50):
            chunk = day.events[i:i + 50]
            await sender.send_day(chunk)
            stats.events += len(chunk)
            if events_per_second:
                ahead = stats.events / events_per_second - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await sender.flush()
        if drained:
            await drained()
        await sender.send_tick(day.tick)
        await sender.flush()
        stats.ticks += 1
        if drained:
            await drained()
        stats.days += 1
        if on_day:
            on_day(day)
    stats.seconds = time.monotonic() - started
    return stats
