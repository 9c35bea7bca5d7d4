"""How long /health takes to answer while the pipeline is loaded: one GET every 100 ms per service.

Asked twice at each moment when the service has an operations port (services/runtime/ops_server.py): on the API
port, answered by the event loop, and on the operations port, answered by a thread beside it (`ops_seconds`).
With `control`, the same operations server also runs alone in an idle process of its own, answering a constant,
and is asked at the same moments (`control_seconds`): what is left of a probe's time there is the
machine's and the prober's (their scheduling on loaded cores), not any service's.

With `scrape_urls` (label -> a service's base URL), /metrics is asked there once a second, as a scraper would
(Prometheus every 15 s; a second gives enough answers in a minute), and timed whole (`scrape_seconds`).

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
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import httpx

from bench.keepalive_http import KeepAliveClient, TransportError

INTERVAL_S = 0.1
TIMEOUT_S = 30.0


@dataclass
class ProbeTimings:
    """What one probing measured, by service (or scraped label); made in the probing process and sent back whole."""

    seconds: dict[str, list[float]] = field(default_factory=dict)  # /health on the API port
    failed: dict[str, int] = field(default_factory=dict)
    live_seconds: dict[str, list[float]] = field(default_factory=dict)  # /health/live on the API port: the floor
    ops_seconds: dict[str, list[float]] = field(default_factory=dict)  # /health on the operations port
    ops_failed: dict[str, int] = field(default_factory=dict)
    control_seconds: list[float] = field(default_factory=list)  # the idle control's /health: the machine's share
    control_failed: int = 0
    scrape_seconds: dict[str, list[float]] = field(default_factory=dict)  # /metrics, whole, once a second
    loop_lag: dict[str, dict[float, float]] = field(default_factory=dict)  # bound -> observations <= it
    gc_pauses: dict[str, dict[str, dict[float, float]]] = field(default_factory=dict)  # by generation, likewise

    @classmethod
    def empty(cls, urls: Mapping[str, str], ops_urls: Mapping[str, str],
              scrape_urls: Mapping[str, str]) -> "ProbeTimings":
        return cls(seconds={name: [] for name in urls}, failed={name: 0 for name in urls},
                   live_seconds={name: [] for name in urls}, ops_seconds={name: [] for name in ops_urls},
                   ops_failed={name: 0 for name in ops_urls}, scrape_seconds={label: [] for label in scrape_urls},
                   loop_lag={name: {} for name in urls}, gc_pauses={name: {} for name in urls})


class HealthProbe:
    """The probing, in a child process: `start` launches it, `stop` ends it and brings its timings back."""

    def __init__(self, urls: Mapping[str, str], interval_s: float = INTERVAL_S,
                 ops_urls: Mapping[str, str] | None = None, control: bool = False,
                 scrape_urls: Mapping[str, str] | None = None):
        self.urls, self.interval_s = dict(urls), interval_s
        self.ops_urls = dict(ops_urls or {})
        self.scrape_urls = dict(scrape_urls or {})
        self.control = control
        self.control_url: str | None = None
        self.timings = ProbeTimings.empty(self.urls, self.ops_urls, self.scrape_urls)
        self._context = multiprocessing.get_context("spawn")  # nothing of the benchmark's loop or clients inherited
        self._ours, self._theirs = self._context.Pipe()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._control: tuple[multiprocessing.process.BaseProcess, Connection] | None = None

    async def start(self) -> None:
        if self.control:
            ours, theirs = self._context.Pipe()
            server = self._context.Process(target=_serve_control, args=(theirs,), daemon=True, name="probe-control")
            server.start()
            port = await asyncio.to_thread(ours.recv)
            self._control = (server, ours)
            self.control_url = f"http://127.0.0.1:{port}"
        self._process = self._context.Process(target=_probe_in_child, daemon=True, name="health-probe",
                                              args=(self.urls, self.ops_urls, self.scrape_urls, self.control_url,
                                                    self.interval_s, self._theirs))
        self._process.start()
        await asyncio.to_thread(self._ours.recv)  # "started": probing from now on

    @property
    def pid(self) -> int | None:
        """The probing process (its CPU time is the benchmark's, not the pipeline's)."""
        return self._process.pid if self._process is not None else None

    async def stop(self) -> None:
        self._ours.send("stop")
        self.timings = await asyncio.to_thread(self._ours.recv)
        assert self._process is not None
        await asyncio.to_thread(self._process.join, TIMEOUT_S + 10)
        if self._control is not None:
            server, pipe = self._control
            pipe.send("stop")
            await asyncio.to_thread(server.join, 10)

    def lag_share_over(self, name: str, bound: float) -> float | None:
        """The share of the service's loop-lag observations during the probing above `bound` seconds (one of the
        histogram's bucket bounds), or None when the service gave none."""
        buckets = self.timings.loop_lag.get(name) or {}
        total = buckets.get(float("inf"), 0.0)
        if not total or bound not in buckets:
            return None
        return (total - buckets[bound]) / total


def _serve_control(pipe: Connection) -> None:
    """The control: the services' operations server, alone in this idle process, answering a constant."""
    from services.runtime.ops_server import OperationsServer, json_reply

    server = OperationsServer("127.0.0.1", 0, {"/health": lambda: json_reply(200, {"status": "ok"})}).start()
    pipe.send(server.port)
    pipe.recv()  # "stop"
    server.stop()


def _probe_in_child(urls: dict[str, str], ops_urls: dict[str, str], scrape_urls: dict[str, str],
                    control_url: str | None, interval_s: float, pipe: Connection) -> None:
    async def probe() -> None:
        prober = _Prober(urls, interval_s, ops_urls, scrape_urls, control_url)
        before = await _histogram_buckets(urls)
        await prober.start()
        pipe.send("started")
        await asyncio.to_thread(pipe.recv)  # "stop"
        await prober.stop()
        after = await _histogram_buckets(urls)
        timings = prober.timings
        timings.loop_lag = {name: _difference(before, after, name, "loop_lag") for name in urls}
        timings.gc_pauses = {name: {series.split(" ", 1)[1]: _difference(before, after, name, series)
                                    for series in after.get(name, {}) if series.startswith("gc_pause ")}
                             for name in urls}
        pipe.send(timings)

    asyncio.run(probe())


_SERIES = {"ariane_event_loop_lag_seconds_bucket{": "loop_lag", "ariane_gc_pause_seconds_bucket{": "gc_pause"}


async def _histogram_buckets(urls: Mapping[str, str]) -> dict[str, dict[str, dict[float, float]]]:
    """Each service's ariane_event_loop_lag_seconds buckets now (series "loop_lag") and its garbage collector's
    pauses (series "gc_pause <generation>"): cumulative counts by upper bound. A service whose /metrics does not
    answer, or has no such series, is left out."""
    out: dict[str, dict[str, dict[float, float]]] = {}
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        for name, url in urls.items():
            try:
                text = (await client.get(f"{url}/metrics")).text
            except httpx.HTTPError:
                continue
            for line in text.splitlines():
                prefix = next((p for p in _SERIES if line.startswith(p)), None)
                if prefix is None:
                    continue
                labels, value = line.rsplit(" ", 1)
                bound = labels.split('le="', 1)[1].split('"', 1)[0]
                series = _SERIES[prefix]
                if series == "gc_pause":
                    series += " " + labels.split('generation="', 1)[1].split('"', 1)[0]
                out.setdefault(name, {}).setdefault(series, {})[float(bound)] = float(value)
    return out


def _difference(before: dict[str, dict[str, dict[float, float]]], after: dict[str, dict[str, dict[float, float]]],
                name: str, series: str) -> dict[float, float]:
    old = before.get(name, {}).get(series, {})
    return {bound: n - old.get(bound, 0.0) for bound, n in after.get(name, {}).get(series, {}).items()}


_CONTROL = "\x00control"  # the control's key among the operations ports: no service's name


class _Prober:
    def __init__(self, urls: Mapping[str, str], interval_s: float = INTERVAL_S,
                 ops_urls: Mapping[str, str] | None = None, scrape_urls: Mapping[str, str] | None = None,
                 control_url: str | None = None):
        self.urls, self.interval_s = dict(urls), interval_s
        self.ops_urls = dict(ops_urls or {})
        if control_url is not None:  # asked as an operations port is, its timings kept apart
            self.ops_urls[_CONTROL] = control_url
        self.scrape_urls = dict(scrape_urls or {})
        self.timings = ProbeTimings.empty(self.urls, dict(ops_urls or {}), self.scrape_urls)
        # The lean client, not httpx: a probe's time includes the prober's own work, and httpx's pool walks all
        # its connections on every request (bench/keepalive_http.py).
        self._clients = {name: KeepAliveClient(url, max_connections=200, timeout_s=TIMEOUT_S)
                         for name, url in self.urls.items()}
        # The operations port bounds its connections (16): a few suffice, as its answers do not queue on a loop.
        self._ops_clients = {name: KeepAliveClient(url, max_connections=8, timeout_s=TIMEOUT_S)
                             for name, url in self.ops_urls.items()}
        self._scrapers = {label: KeepAliveClient(url, max_connections=4, timeout_s=TIMEOUT_S)
                          for label, url in self.scrape_urls.items()}
        self._task: asyncio.Task[None] | None = None
        self._probes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _probe(self, name: str, path: str = "/health", ops: bool = False) -> None:
        began = time.perf_counter()
        try:
            response = await (self._ops_clients if ops else self._clients)[name].get(path)
            ok = response.status_code == 200
        except TransportError:
            ok = False
        took, t = time.perf_counter() - began, self.timings
        if ops and name == _CONTROL:
            t.control_seconds.append(took)
            t.control_failed += 0 if ok else 1
        elif ops:
            t.ops_seconds[name].append(took)
            t.ops_failed[name] += 0 if ok else 1
        elif path != "/health":
            t.live_seconds[name].append(took)
        else:
            t.seconds[name].append(took)
            t.failed[name] += 0 if ok else 1

    async def _scrape(self, label: str) -> None:
        began = time.perf_counter()
        try:
            response = await self._scrapers[label].get("/metrics")
            ok = response.status_code == 200 and bool(response.content)
        except TransportError:
            ok = False
        # A failed scrape counts as its timeout: the scraper got nothing in that time.
        self.timings.scrape_seconds[label].append(time.perf_counter() - began if ok else TIMEOUT_S)

    async def _run(self) -> None:
        began = time.perf_counter()
        tick = 0
        while True:
            asked = [(name, path, False) for name in self.urls for path in ("/health", "/health/live")]
            asked += [(name, "/health", True) for name in self.ops_urls]  # the services' and the control's
            probes = [self._probe(name, path, ops) for name, path, ops in asked]
            if tick % round(1.0 / self.interval_s) == 0:
                probes += [self._scrape(label) for label in self.scrape_urls]
            for probe in probes:
                task = asyncio.create_task(probe)
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
        for client in [*self._clients.values(), *self._ops_clients.values(), *self._scrapers.values()]:
            await client.aclose()
