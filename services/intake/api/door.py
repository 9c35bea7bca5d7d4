"""The count of events in intake's hands over HTTP, against the admission limit (`domain.door`).

One counter per process, touched only on the event loop (no await between the check and the count), so it needs
no lock. `ariane_intake_events_in_flight` shows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Gauge

from services.intake.domain.door import may_enter


class Door:
    def __init__(self, limit: int, gauge: Gauge | None = None) -> None:
        self.limit = limit
        self.in_flight = 0
        self._gauge = gauge

    @contextmanager
    def entered(self, events: int) -> Iterator[bool]:
        """Yields False (and counts nothing) when the request must wait outside: answer it 503 with Retry-After."""
        if not may_enter(self.in_flight, events, self.limit):
            yield False
            return
        self._move(events)
        try:
            yield True
        finally:
            self._move(-events)

    def _move(self, events: int) -> None:
        self.in_flight += events
        if self._gauge is not None:
            self._gauge.set(self.in_flight)
