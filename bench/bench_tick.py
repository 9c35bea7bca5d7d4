"""Day-tick cost and RSS of followup and referral as the territory grows (simulated years).

    python bench/bench_tick.py [--people 10000 100000] [--services followup referral] [--days 365]

For each service and size, in a process of its own (so its RSS is that run's): a simulated territory year (the
`territory` mix) goes through the service's own handlers and processor into a fresh SQLite store, day by day:
the day's partner events in batches of 500, then the day's `clock.day_started` tick alone, timed. Prints, per
run, the slowest tick, the median tick, the sum of the ticks, the events applied per second between ticks, and
the process's RSS at the end (the service's store, caches and the simulated year it is fed from); then the
ratios between the largest and the smallest size. Writes bench/results/tick-<time>.json.

The store starts empty and fills over the year, so the last ticks are those of the largest territory; a tick
that costs O(items due that day) keeps the slowest tick flat as people are added, one that costs O(people)
grows with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import load_average, rss_mib, write_result  # noqa: E402

BATCH = 500


def _definition(service: str):  # noqa: ANN202
    if service == "followup":
        from services.followup.app import definition
    elif service == "referral":
        from services.referral.app import definition
    else:
        raise SystemExit(f"unknown service {service!r}")
    return definition()


async def open_processor(service: str, engine: Any) -> Any:
    """The service's own handler and event processor on `engine`'s store, migrated to its head."""
    from prometheus_client import CollectorRegistry

    from services.runtime.db import make_session_factory
    from services.runtime.metrics import RuntimeMetrics
    from services.runtime.migrate import upgrade_to_head
    from services.runtime.processor import EventProcessor
    from services.runtime.settings import RuntimeSettings

    definition = _definition(service)
    await upgrade_to_head(engine, service, definition.metadata, definition.versions_dir)
    factory = make_session_factory(engine)
    registry = CollectorRegistry()
    ctx = SimpleNamespace(registry=registry, session_factory=factory, engine=engine, name=service,
                          settings=RuntimeSettings())  # the services read their credentials book path from it
    wiring = await definition.start(ctx)
    return EventProcessor(service, factory, definition.tables, wiring.handler,
                          RuntimeMetrics.create(service, registry), RuntimeSettings())


async def run_day(processor: Any, day: Any, offset: int) -> tuple[float, float, int, int]:
    """One simulated day: its tick alone (timed), then its partner events in batches of BATCH (timed apart).
    Returns (tick seconds, applying seconds, events applied, next offset)."""
    from contracts import topics
    from services.runtime.records import Record

    tick = Record(topics.CLOCK, 0, offset, b"clock", day.tick.to_json_bytes())
    offset += 1
    started = time.perf_counter()
    await processor.process_batch([tick])
    tick_s = time.perf_counter() - started
    records = [Record(topics.INTAKE, 1, offset + n, e.subject.encode(), e.to_json_bytes())
               for n, e in enumerate(day.events)]
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        await processor.process_batch(records[start:start + BATCH])
    return tick_s, time.perf_counter() - started, len(records), offset + len(records)


def day_bar(label: str):  # noqa: ANN201
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("days"), TimeElapsedColumn())


async def one_run(service: str, people: int, days: int) -> dict[str, Any]:
    from services.runtime.db import make_engine
    from simulator.year import simulate

    year = simulate("territory", people=people, seed=7, days=days)
    ticks: list[float] = []
    applied, applying_s = 0, 0.0
    offset = 0
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(scratch) / f'{service}.db'}")
        try:
            processor = await open_processor(service, engine)
            with day_bar(f"{service} {people:,} people") as bar:
                task = bar.add_task("days", total=days)
                for day in year.stream():
                    tick_s, apply_s, n, offset = await run_day(processor, day, offset)
                    ticks.append(tick_s)
                    applying_s += apply_s
                    applied += n
                    bar.update(task, advance=1)
        finally:
            await engine.dispose()
    return {"service": service, "people": people, "days": days, "events": applied,
            "tick_max_s": round(max(ticks), 4), "tick_median_s": round(statistics.median(ticks), 4),
            "tick_sum_s": round(sum(ticks), 3), "tick_last_30_mean_s": round(statistics.mean(ticks[-30:]), 4),
            "apply_events_per_s": round(applied / applying_s) if applying_s else 0, "rss_mib": rss_mib()}


def main(services: list[str], sizes: list[int], days: int) -> dict[str, Any]:
    load_before = load_average()
    runs = []
    for service in services:
        for people in sizes:
            out = subprocess.run([sys.executable, __file__, "--one", service, str(people), "--days", str(days)],
                                 stdout=subprocess.PIPE, check=True, text=True)
            run = json.loads(out.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(f"{service:<9} {people:>8,} people  {run['events']:>9,} events  tick max {run['tick_max_s']:7.3f}s"
                  f"  median {run['tick_median_s']:6.3f}s  last 30 days {run['tick_last_30_mean_s']:6.3f}s"
                  f"  sum {run['tick_sum_s']:8.1f}s  apply {run['apply_events_per_s']:>6,} ev/s"
                  f"  RSS {run['rss_mib']:7.1f} MiB", flush=True)
    result: dict[str, Any] = {"runs": runs, "machine": {"load_average_start": load_before}}
    ratios = {}
    for service in services:
        mine = [r for r in runs if r["service"] == service]
        if len(mine) > 1:
            small, large = mine[0], mine[-1]
            ratios[service] = {"people": round(large["people"] / small["people"], 2),
                               "tick_max": round(large["tick_max_s"] / small["tick_max_s"], 2),
                               "tick_last_30": round(large["tick_last_30_mean_s"] / small["tick_last_30_mean_s"], 2),
                               "rss": round(large["rss_mib"] / small["rss_mib"], 2)}
            print(f"{service}: x{ratios[service]['people']} people -> tick max x{ratios[service]['tick_max']}, "
                  f"last-30-day ticks x{ratios[service]['tick_last_30']}, RSS x{ratios[service]['rss']}")
    result["ratios"] = ratios
    print(f"load average  start {load_before}  end {load_average()}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--services", nargs="+", default=["followup", "referral"])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--one", nargs=2, metavar=("SERVICE", "PEOPLE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one_run(args.one[0], int(args.one[1]), args.days))))
    else:
        outcome = main(args.services, args.people, args.days)
        print(f"result        {write_result('tick', outcome)}")
