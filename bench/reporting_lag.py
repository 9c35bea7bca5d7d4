"""Reporting alone under a paced stream of records, in this process: from each record's arrival to its commit.

    python bench/reporting_lag.py [--rate 1000] [--seconds 20] [--people 3000] [--no-metrics]

A simulated territory's events (the `territory` mix, in rounds of one event per person as the pipeline
benchmark sends them) arrive at `--rate` records per second into a queue that stands for the broker's fetched
records. A loop like the runtime's consumer takes whatever has arrived (at most the consumer's batch size),
applies it through reporting's own processor and handlers into a fresh SQLite store, and notes the time each
record's batch committed; meanwhile reporting's metrics task runs on the same event loop, as in the service
(unless `--no-metrics`). Prints p50/p99/max of arrival → commit and the batch sizes. No broker, no HTTP: what is
measured is the part of the pipeline's "202 → reporting" latency that reporting's own process adds. A tool for
finding where the time goes; compare runs made one after the other on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import load_average  # noqa: E402


WARM = 1000


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(rate: float, seconds: float, people: int, metrics: bool) -> dict[str, Any]:
    from prometheus_client import CollectorRegistry

    from contracts import topics
    from services.reporting.app import definition
    from services.runtime.db import make_engine, make_read_engine, make_session_factory
    from services.runtime.metrics import RuntimeMetrics
    from services.runtime.migrate import upgrade_to_head
    from services.runtime.processor import EventProcessor
    from services.runtime.records import Record
    from services.runtime.settings import RuntimeSettings
    from simulator.year import simulate

    year = simulate("territory", people=people, seed=7, days=365)
    by_person: dict[str, list] = {}
    for day in year.stream():
        for e in day.events:
            by_person.setdefault(e.subject, []).append(e)
    wanted = int(rate * seconds)
    rounds = [e for k in range(max(map(len, by_person.values()), default=0))
              for events in by_person.values() if k < len(events) for e in events[k:k + 1]]
    records = [Record(topics.INTAKE, 0, n, e.subject.encode(), e.to_json_bytes()) for n, e in enumerate(rounds)]
    # The first batches of a process pay for its caches (compiled statements, validators): applied before the
    # clock starts, as a running service has long paid for them.
    records, warm = records[:wanted], records[wanted:wanted + WARM]
    # The simulated year is millions of objects that the service would not hold: freed, and what is left of the
    # setup (the records' bytes, the modules) kept out of the collector's passes, so that a full collection
    # costs here what it costs the service, not a second or two walking the simulator's people.
    del year, by_person, rounds
    gc.collect()
    gc.freeze()
    settings = RuntimeSettings()
    spec = definition()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'reporting.db'}"
        engine, read_engine = make_engine(url), make_read_engine(url)
        await upgrade_to_head(engine, "reporting", spec.metadata, spec.versions_dir)
        factory = make_session_factory(engine)
        registry = CollectorRegistry()
        ctx = SimpleNamespace(registry=registry, session_factory=factory, engine=engine, read_engine=read_engine,
                              read_session_factory=make_session_factory(read_engine), name="reporting",
                              settings=settings)
        wiring = await spec.start(ctx)
        processor = EventProcessor("reporting", factory, spec.tables, wiring.handler,
                                   RuntimeMetrics.create("reporting", registry), settings)
        for start in range(0, len(warm), settings.consumer_batch_max):
            await processor.process_batch(warm[start:start + settings.consumer_batch_max])
        stop = asyncio.Event()
        tasks = [asyncio.create_task(t.run(stop)) for t in wiring.tasks] if metrics else []
        arrived: list[float] = []
        latencies: list[float] = []
        sizes: list[int] = []
        walls: list[float] = []

        async def arrive() -> None:
            start = time.perf_counter()
            for n in range(len(records)):
                due = start + n / rate
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                arrived.append(time.perf_counter())

        sender = asyncio.create_task(arrive())
        taken = 0
        cpu = time.process_time()
        try:
            while taken < len(records):
                if taken == len(arrived):
                    await asyncio.sleep(settings.consumer_fetch_max_wait_ms / 1000 / 10)
                    continue
                end = min(len(arrived), taken + settings.consumer_batch_max)
                began = time.perf_counter()
                await processor.process_batch(records[taken:end])
                done = time.perf_counter()
                walls.append(done - began)
                latencies += [done - at for at in arrived[taken:end]]
                sizes.append(end - taken)
                taken = end
        finally:
            cpu = time.process_time() - cpu
            stop.set()
            await sender
            await asyncio.gather(*tasks, return_exceptions=True)
            await read_engine.dispose()
            await engine.dispose()
            gc.unfreeze()
    return {"rate": rate, "records": len(records), "metrics_task": metrics,
            "p50_ms": round(_quantile(latencies, 0.5) * 1000, 1), "p99_ms": round(_quantile(latencies, 0.99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1), "batches": len(sizes),
            "batch_mean": round(statistics.fmean(sizes), 1), "batch_max": max(sizes),
            "batch_s_p50": round(_quantile(walls, 0.5), 3), "batch_s_max": round(max(walls), 3),
            "busy_s": round(sum(walls), 2), "cpu_ms_per_record": round(cpu * 1000 / len(records), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="records per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--no-metrics", action="store_true", help="without reporting's metrics task")
    args = parser.parse_args()
    load = load_average()
    result = asyncio.run(run(args.rate, args.seconds, args.people, not args.no_metrics))
    print(result, f"load {load} -> {load_average()}")


if __name__ == "__main__":
    main()
