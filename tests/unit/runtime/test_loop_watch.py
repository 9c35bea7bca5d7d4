"""What holds a service's event loop shows: its lag in /metrics, the collector's passes, and, with the trace on,
a log line saying where the loop was held. And start-up's heap is left out of the collector's walks."""

from __future__ import annotations

import asyncio
import gc
import time

from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from services.runtime.loop_watch import LoopWatch, freeze_startup_heap
from services.runtime.metrics import RuntimeMetrics


def hold_the_loop(seconds: float) -> None:
    """Synchronous work on the loop, as a long batch statement or a large JSON document would be."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


def observed(metrics: RuntimeMetrics, name: str, labels: dict[str, str], at_least: float) -> float:
    """How many observations of a histogram were above `at_least` (bucket bounds as /metrics shows them)."""
    total = below = 0.0
    for sample in metrics.registry.collect():
        for s in sample.samples:
            if s.name == f"{name}_count" and all(s.labels.get(k) == v for k, v in labels.items()):
                total = s.value
            if (s.name == f"{name}_bucket" and all(s.labels.get(k) == v for k, v in labels.items())
                    and s.labels["le"] != "+Inf" and float(s.labels["le"]) < at_least):
                below = max(below, s.value)
    return total - below


async def test_a_held_loop_shows_in_the_lag_and_the_trace_says_where() -> None:
    metrics = RuntimeMetrics.create("svc", CollectorRegistry())
    watch = LoopWatch("svc", metrics.loop_lag, metrics.gc_pause, tick_s=0.01, trace_over_s=0.1)
    stop = asyncio.Event()
    with capture_logs() as logs:
        watching = asyncio.create_task(watch.run(stop))
        await asyncio.sleep(0.05)  # a few turns on an idle loop
        hold_the_loop(0.5)
        gc.collect()
        await asyncio.sleep(0.05)  # the watch wakes, late, and tells
        stop.set()
        await watching
    assert observed(metrics, "ariane_event_loop_lag_seconds", {"service": "svc"}, 0.25) >= 1
    assert observed(metrics, "ariane_gc_pause_seconds", {"service": "svc", "generation": "2"}, 0) >= 1
    held = [entry for entry in logs if entry["event"] == "event_loop_held"]
    assert held and held[0]["held_ms"] >= 400
    assert any("hold_the_loop" in where for where in held[0]["where"]), held[0]["where"]


async def test_start_ups_heap_is_frozen_out_of_the_collectors_walks() -> None:
    built_at_start = [{"n": n} for n in range(1000)]
    freeze_startup_heap()
    try:
        assert gc.get_freeze_count() >= len(built_at_start)
    finally:
        gc.unfreeze()  # the rest of the test session is not a service
