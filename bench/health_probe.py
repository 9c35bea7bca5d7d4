"""How long /health takes to answer while the pipeline is loaded: one GET every 100 ms per service.

Beside each /health, the same service's /health/live is asked at the same moment: it answers from memory
(no store, no broker), so its time is the floor any answer of that process has on this machine at that
moment (its event loop's turn, the scheduler), and /health above it is what reading the service's state
costs.

Each probe is sent on time whether or not the previous one has answered (a prober does not wait for a slow
answer before asking again), so a service whose event loop is blocked for two seconds shows twenty slow answers,
not one. A probe that gets no answer within its timeout counts as that timeout, and as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping

import httpx

INTERVAL_S = 0.1
TIMEOUT_S = 30.0


class HealthProbe:
    def __init__(self, urls: Mapping[str, str], interval_s: float = INTERVAL_S):
        self.urls, self.interval_s = dict(urls), interval_s
        self.seconds: dict[str, list[float]] = {name: [] for name in urls}
        self.failed: dict[str, int] = {name: 0 for name in urls}
        self.live_seconds: dict[str, list[float]] = {name: [] for name in urls}  # /health/live, the floor
        self._client = httpx.AsyncClient(timeout=TIMEOUT_S, limits=httpx.Limits(max_connections=200))
        self._task: asyncio.Task[None] | None = None
        self._probes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _probe(self, name: str, path: str = "/health") -> None:
        began = time.perf_counter()
        try:
            response = await self._client.get(f"{self.urls[name]}{path}")
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        if path != "/health":
            self.live_seconds[name].append(time.perf_counter() - began)
            return
        self.seconds[name].append(time.perf_counter() - began)
        if not ok:
            self.failed[name] += 1

    async def _run(self) -> None:
        began = time.perf_counter()
        tick = 0
        while True:
            for name in self.urls:
                for path in ("/health", "/health/live"):
                    task = asyncio.create_task(self._probe(name, path))
                    self._probes.add(task)
                    task.add_done_callback(self._probes.discard)
            tick += 1
            await asyncio.sleep(max(0.0, began + tick * self.interval_s - time.perf_counter()))

    async def stop(self) -> None:
        """Stop sending; wait for the probes in flight (each bounded by its timeout)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._probes:
            await asyncio.gather(*self._probes, return_exceptions=True)
        await self._client.aclose()
