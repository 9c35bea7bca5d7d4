"""How long /health takes to answer while the pipeline is loaded: one GET every 100 ms per service.

Beside each /health, the same service's /health/live is asked at the same moment: it answers from memory
(no store, no broker), so its time is the floor any answer of that process has on this machine at that
moment (its event loop's turn, the scheduler), and /health above it is what reading the service's state
costs.

Each probe is sent on time whether or not the previous one has answered (a prober does not wait for a slow
answer before asking again), so a service whose event loop is blocked for two seconds shows twenty slow answers,
not one. A probe that gets no answer within its timeout counts as that timeout, and as failed.

Each service also says how late its own event loop's timer fired meanwhile (ariane_event_loop_lag_seconds,
services/runtime/loop_watch.py): read from /metrics when the probing starts and when it stops, the difference is
`loop_lag[name]`, the count of its observations at or below each bucket bound (`lag_share_over` reads it). A slow
/health/live with a small loop lag is the machine or the prober being late, not the service holding its loop.

The prober runs in a process of its own, as a monitoring system would: in the benchmark's process it shared an
event loop with the partner posting 200-event batches and the readers of the topics, and timed its own turns on
that loop as the services' answers (seconds, under load, while the services answered in milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection

import httpx

from bench.keepalive_http import KeepAliveClient, TransportError

INTERVAL_S = 0.1
TIMEOUT_S = 30.0


class HealthProbe:
    """The probing, in a child process: `start` launches it, `stop` ends it and brings its timings back."""

    def __init__(self, urls: Mapping[str, str], interval_s: float = INTERVAL_S):
        self.urls, self.interval_s = dict(urls), interval_s
        self.seconds: dict[str, list[float]] = {name: [] for name in urls}
        self.failed: dict[str, int] = {name: 0 for name in urls}
        self.live_seconds: dict[str, list[float]] = {name: [] for name in urls}
        self.loop_lag: dict[str, dict[float, float]] = {name: {} for name in urls}  # bound -> observations <= it
        context = multiprocessing.get_context("spawn")  # nothing of the benchmark's loop or clients inherited
        self._ours, theirs = context.Pipe()
        self._process = context.Process(target=_probe_in_child, args=(self.urls, interval_s, theirs), daemon=True,
                                        name="health-probe")

    async def start(self) -> None:
        self._process.start()
        await asyncio.to_thread(self._ours.recv)  # "started": probing from now on

    @property
    def pid(self) -> int | None:
        """The probing process (its CPU time is the benchmark's, not the pipeline's)."""
        return self._process.pid

    async def stop(self) -> None:
        self._ours.send("stop")
        seconds, failed, live, lag = await asyncio.to_thread(self._ours.recv)
        await asyncio.to_thread(self._process.join, TIMEOUT_S + 10)
        self.seconds, self.failed, self.live_seconds, self.loop_lag = seconds, failed, live, lag

    def lag_share_over(self, name: str, bound: float) -> float | None:
        """The share of the service's loop-lag observations during the probing above `bound` seconds (one of the
        histogram's bucket bounds), or None when the service gave none."""
        buckets = self.loop_lag.get(name) or {}
        total = buckets.get(float("inf"), 0.0)
        if not total or bound not in buckets:
            return None
        return (total - buckets[bound]) / total


def _probe_in_child(urls: dict[str, str], interval_s: float, pipe: Connection) -> None:
    async def probe() -> None:
        prober = _Prober(urls, interval_s)
        before = await _loop_lag_buckets(urls)
        await prober.start()
        pipe.send("started")
        await asyncio.to_thread(pipe.recv)  # "stop"
        await prober.stop()
        after = await _loop_lag_buckets(urls)
        lag = {name: {bound: n - before.get(name, {}).get(bound, 0.0) for bound, n in after.get(name, {}).items()}
               for name in urls}
        pipe.send((prober.seconds, prober.failed, prober.live_seconds, lag))

    asyncio.run(probe())


async def _loop_lag_buckets(urls: Mapping[str, str]) -> dict[str, dict[float, float]]:
    """Each service's ariane_event_loop_lag_seconds buckets now (cumulative counts by upper bound); a service
    whose /metrics does not answer, or has no such series, is left out."""
    out: dict[str, dict[float, float]] = {}
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        for name, url in urls.items():
            try:
                text = (await client.get(f"{url}/metrics")).text
            except httpx.HTTPError:
                continue
            for line in text.splitlines():
                if not line.startswith("ariane_event_loop_lag_seconds_bucket{"):
                    continue
                labels, value = line.rsplit(" ", 1)
                bound = labels.split('le="', 1)[1].split('"', 1)[0]
                out.setdefault(name, {})[float(bound)] = float(value)
    return out


class _Prober:
    def __init__(self, urls: Mapping[str, str], interval_s: float = INTERVAL_S):
        self.urls, self.interval_s = dict(urls), interval_s
        self.seconds: dict[str, list[float]] = {name: [] for name in urls}
        self.failed: dict[str, int] = {name: 0 for name in urls}
        self.live_seconds: dict[str, list[float]] = {name: [] for name in urls}  # /health/live, the floor
        # The lean client, not httpx: a probe's time includes the prober's own work, and httpx's pool walks all
        # its connections on every request (bench/keepalive_http.py).
        self._clients = {name: KeepAliveClient(url, max_connections=200, timeout_s=TIMEOUT_S)
                         for name, url in self.urls.items()}
        self._task: asyncio.Task[None] | None = None
        self._probes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _probe(self, name: str, path: str = "/health") -> None:
        began = time.perf_counter()
        try:
            response = await self._clients[name].get(path)
            ok = response.status_code == 200
        except TransportError:
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
        for client in self._clients.values():
            await client.aclose()
