"""What /health and /health/ready say about the store, read beside the request rather than in its way.

Under a full consumer load the event loop is busy with the batch's statements, and a health request that
queries the store itself (is it reachable, how many outbox rows wait) queues behind them: its answer took
seconds. So a background loop reads the store's state every `refresh_s`, and a request starts (or joins) a
fresh reading but waits for it only `answer_within_s`, and only if the latest reading took no longer than
that: at rest the answer is as fresh as before, under load it is the last reading, with its age, at once (a
reading that took longer says the next will too; waiting for it only delayed the answer). A reading older
than `stale_after_s` (ten readings missed: the loop or the store is stuck) is not trusted: the database check
then says "stale", and /health and /health/ready answer 503. A reading that takes longer than
`query_timeout_s` says the database is failing, as before.

The outbox count of an older reading must never say "empty" wrongly (the local tooling waits for every
outbox to be empty to call the pipeline at rest): if outbox rows were committed after that reading began
(the outbox changed since), it says at least 1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_LOOK_S = 0.05  # how often the background loop looks whether the outbox changed (an in-memory count)
# answer_within_s: at rest a reading takes a few milliseconds, so 20 ms still answers fresh. Under load a reading
# takes longer, and the wait for it was most of /health's time above /health/live's (p50 20-25 ms more, intake and
# followup, paced 500 events/s): hence no wait once readings are slower than that.


@dataclass(frozen=True)
class StoreReading:
    started_at: float  # time.monotonic() when the reading began: any thread can tell its age
    database: str  # "ok" or "failing: <error type>"
    outbox_pending: int | None  # None when the database could not be read
    changes_before: int  # the outbox's change count (OutboxRelay.changes) when the reading began


class StoreHealth:
    def __init__(self, read_engine: AsyncEngine, pending_count: Callable[[], Awaitable[int]],
                 changes: Callable[[], int], *, refresh_s: float = 1.0, answer_within_s: float = 0.02,
                 stale_after_s: float = 10.0, query_timeout_s: float = 2.0, min_gap_s: float = 0.2) -> None:
        self.read_engine = read_engine
        self.pending_count = pending_count
        self.changes = changes
        self.refresh_s, self.answer_within_s = refresh_s, answer_within_s
        self.stale_after_s, self.query_timeout_s, self.min_gap_s = stale_after_s, query_timeout_s, min_gap_s
        self.last: StoreReading | None = None
        self.last_took_s = 0.0  # how long the latest finished reading took: a busy loop or store shows here
        self._reading: asyncio.Task[StoreReading] | None = None
        self._reading_since = 0.0  # time.monotonic() when the reading under way began

    async def _read(self) -> StoreReading:
        started, changes = time.monotonic(), self.changes()
        try:
            async with asyncio.timeout(self.query_timeout_s):
                async with self.read_engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                pending = await self.pending_count()
            reading = StoreReading(started, "ok", pending, changes)
        except Exception as exc:  # noqa: BLE001 - any failure is "not ok", named
            reading = StoreReading(started, f"failing: {type(exc).__name__}", None, changes)
        if self.last is None or reading.started_at >= self.last.started_at:
            self.last = reading
            self.last_took_s = time.monotonic() - started
        return reading

    def _refresh(self) -> asyncio.Task[StoreReading]:
        """The reading under way, or a new one: one at a time, however many requests ask."""
        if self._reading is None or self._reading.done():
            self._reading_since = time.monotonic()
            self._reading = asyncio.get_running_loop().create_task(self._read())
        return self._reading

    def _readings_are_quick(self) -> bool:
        """The latest reading took no longer than `answer_within_s`, nor has the one under way so far."""
        under_way = time.monotonic() - self._reading_since
        return self.last_took_s <= self.answer_within_s and under_way <= self.answer_within_s

    async def run(self, stop: asyncio.Event) -> None:
        """The background loop: a reading every `refresh_s`, or `min_gap_s` after the last one began once the
        outbox has changed since (rows committed or published), until `stop`."""
        while not stop.is_set():
            reading = await asyncio.shield(self._refresh())
            while not stop.is_set():
                elapsed = time.monotonic() - reading.started_at
                changed = self.changes() != reading.changes_before
                if elapsed >= self.refresh_s or (changed and elapsed >= self.min_gap_s):
                    break
                try:
                    await asyncio.wait_for(stop.wait(), timeout=_LOOK_S)
                except asyncio.TimeoutError:
                    pass
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()

    async def reading(self) -> tuple[StoreReading, float]:
        """A fresh reading if one comes within `answer_within_s` (waited for only when the latest one came that
        fast), else the last one; and its age in seconds."""
        task = self._refresh()
        if self._readings_are_quick():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=self.answer_within_s)
            except asyncio.TimeoutError:
                pass
        if self.last is None:  # the very first reading: nothing to answer from but it
            await asyncio.shield(task)
        assert self.last is not None
        return self.last, time.monotonic() - self.last.started_at

    async def database_check(self) -> tuple[str, StoreReading, float]:
        reading, age = await self.reading()
        return self._status(reading, age), reading, age

    def latest_check(self) -> tuple[str, StoreReading | None, float]:
        """The latest reading as it stands, without starting one (the operations port asks from its own thread):
        its database status ("stale" when too old, "starting" before the first), the reading, its age."""
        last = self.last
        if last is None:
            return "starting", None, 0.0
        age = time.monotonic() - last.started_at
        return self._status(last, age), last, age

    def _status(self, reading: StoreReading, age: float) -> str:
        return reading.database if age <= self.stale_after_s else "stale"

    def outbox_pending(self, reading: StoreReading) -> int | None:
        if reading.outbox_pending is None:
            return None
        if self.changes() != reading.changes_before:
            return max(reading.outbox_pending, 1)  # rows may have been committed since: not known to be empty
        return reading.outbox_pending
