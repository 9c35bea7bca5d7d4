"""Whether the rest of a process gets the event loop while a piece of work runs.

`OtherWork` is a task that takes every turn the loop gives it, as /health, /metrics and the relay would, and
counts them; a test notes the count (or any value of its own, with `note`) at each step of the work, and can
tell a step that ran in one stretch (every step saw the same count) from one that gave turns. `spin` stands for
a step's CPU work: it holds the loop as real work does, without awaiting anything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


class OtherWork:
    def __init__(self, note: Callable[[], Any] | None = None) -> None:
        self.turns = 0
        self.noted: list[Any] = []  # note() at each turn, when given
        self._note = note
        self._running = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OtherWork:
        self._running = True
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)  # its first turn, before the work starts
        return self

    async def __aexit__(self, *_: object) -> None:
        self._running = False
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        while self._running:
            self.turns += 1
            if self._note is not None:
                self.noted.append(self._note())
            await asyncio.sleep(0)


def spin(seconds: float) -> None:
    """CPU work of `seconds` that holds the event loop, as a step of real work does."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass
