"""One service's apply path alone, in this process: events/s and SQL statements per event, optionally profiled.

    python bench/apply_profile.py [--service followup] [--people 300] [--days 120] [--batch 500] [--profile FILE]
                                  [--save --label CODE]

A simulated territory year (the `territory` mix) goes through the service's own handlers and processor into a
fresh SQLite store, day by day: the day's clock tick alone, then the day's events in batches of `--batch` (the
consumer's batch size by default), as bench_tick.py feeds them. No broker, no HTTP, no other service: what is
measured is what a consumed batch costs the service's event loop, which is where the pipeline benchmark found
the stage that lags (bench/README.md). Prints the events applied per second, the SQL statements sent per event
(counted at the driver), the CPU time of the process per event (its threads, the driver's included: less
moved by other processes' load than the elapsed time), and with `--profile` the top of a cProfile of the
applying (bench/profiling.py's format). A tool for finding where the time goes, not a benchmark with a
baseline: compare two runs of it made one after the other on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import RESULTS, load_average, write_result  # noqa: E402
from bench.profiling import top  # noqa: E402


def _definition(service: str):  # noqa: ANN202
    if service == "followup":
        from services.followup.app import definition
    elif service == "referral":
        from services.referral.app import definition
    elif service == "reporting":
        from services.reporting.app import definition
    else:
        raise SystemExit(f"unknown service {service!r}")
    return definition()


async def run(service: str, people: int, days: int, batch: int, profile: Path | None) -> dict[str, Any]:
    from prometheus_client import CollectorRegistry
    from sqlalchemy import event

    from contracts import topics
    from services.runtime.db import make_engine, make_session_factory
    from services.runtime.metrics import RuntimeMetrics
    from services.runtime.migrate import upgrade_to_head
    from services.runtime.processor import EventProcessor
    from services.runtime.records import Record
    from services.runtime.settings import RuntimeSettings
    from simulator.year import simulate

    year = simulate("territory", people=people, seed=7, days=days)
    definition = _definition(service)
    settings = RuntimeSettings()
    statements = 0
    applied, applying_s, cpu_s = 0, 0.0, 0.0
    profiler = cProfile.Profile() if profile else None
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(scratch) / f'{service}.db'}")

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(*_: Any) -> None:
            nonlocal statements
            statements += 1

        try:
            if definition.versions_dir is None:
                async with engine.begin() as conn:
                    await conn.run_sync(definition.metadata.create_all)
            else:
                await upgrade_to_head(engine, service, definition.metadata, definition.versions_dir)
            factory = make_session_factory(engine)
            registry = CollectorRegistry()
            ctx = SimpleNamespace(registry=registry, session_factory=factory, engine=engine, name=service,
                                  settings=settings, read_session_factory=factory)
            wiring = await definition.start(ctx)
            processor = EventProcessor(service, factory, definition.tables, wiring.handler,
                                       RuntimeMetrics.create(service, registry), settings)
            offset = 0
            for day in year.stream():
                records = [Record(topics.CLOCK, 0, offset, b"clock", day.tick.to_json_bytes())]
                records += [Record(topics.INTAKE, 1, offset + 1 + n, e.subject.encode(), e.to_json_bytes())
                            for n, e in enumerate(day.events)]
                offset += len(records)
                chunks = [records[:1]] + [records[i:i + batch] for i in range(1, len(records), batch)]
                started, cpu_started = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                for chunk in chunks:
                    await processor.process_batch(chunk)
                if profiler:
                    profiler.disable()
                applying_s += time.perf_counter() - started
                cpu_s += time.process_time() - cpu_started
                applied += len(records)
        finally:
            await engine.dispose()
    if profiler and profile:
        profiler.dump_stats(str(profile))
    return {"service": service, "people": people, "days": days, "batch": batch, "events": applied,
            "seconds": round(applying_s, 2), "events_per_s": round(applied / applying_s, 1),
            "cpu_ms_per_event": round(cpu_s * 1000 / applied, 2),
            "statements_per_event": round(statements / applied, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default="followup", choices=("followup", "referral", "reporting"))
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the applying here and print its top")
    parser.add_argument("--label", help="what code this is (e.g. a commit), kept in the result written with --save")
    parser.add_argument("--save", action="store_true",
                        help="also write the result as bench/results/apply-<service>-<time>.json")
    args = parser.parse_args()
    load = load_average()
    result = asyncio.run(run(args.service, args.people, args.days, args.batch, args.profile))
    print(result, f"load {load} -> {load_average()}")
    if args.save:
        path = write_result(f"apply-{args.service}", {**result, "label": args.label,
                                                      "machine": {"load_average_start": load}}, RESULTS)
        print(f"result {path}")
    if args.profile:
        print(top(args.profile, 30))


if __name__ == "__main__":
    main()
