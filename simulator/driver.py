"""The day loop: each simulated day's clock tick, then that day's partner events, at a chosen pace.

The tick of day D is `day_started` at midnight: it comes first, and deadlines falling on or before D are
decided on it; then the partner events of D (09:00 onwards) arrive. `drained` is awaited after the tick (so
every service has decided the day's deadlines before the day's events) and after the partner events. The
demo and the end-to-end test pass one that waits for the consumer groups to catch up; without it the year
runs as fast as the broker takes it, and a day's events may race that day's tick across topics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from simulator.senders import Sender
from simulator.year import ReviewDecision, SimDay


@dataclass
class DriveStats:
    days: int = 0
    events: int = 0
    ticks: int = 0
    decisions: int = 0  # identity reviews the coordinator decided
    seconds: float = 0.0


async def drive(days: Iterable[SimDay], sender: Sender, *, drained: Callable[[], Awaitable[None]] | None = None,
                events_per_second: float | None = None,
                on_day: Callable[[SimDay], None] | None = None,
                decide: Callable[[ReviewDecision], Awaitable[None]] | None = None) -> DriveStats:
    """`decide`: how the coordinator decides the day's identity reviews, after the day's partner events (e.g.
    coordinator.Coordinator.decide); without it they stay pending."""
    stats = DriveStats()
    started = time.monotonic()
    for day in days:
        await sender.send_tick(day.tick)
        await sender.flush()
        stats.ticks += 1
        if drained:
            await drained()
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
        if decide and day.decisions:
            for decision in day.decisions:
                await decide(decision)
                stats.decisions += 1
            if drained:
                await drained()
        stats.days += 1
        if on_day:
            on_day(day)
    stats.seconds = time.monotonic() - started
    return stats
