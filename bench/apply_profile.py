"""One service's apply path alone, in this process: events/s and SQL statements per event, optionally profiled.

    python bench/apply_profile.py [--service followup] [--people 300] [--days 120] [--batch 500] [--profile FILE]
                                  [--rounds] [--stalls] [--no-freeze] [--save --label CODE]

A simulated territory year (the `territory` mix) goes through the service's own handlers and processor into a
fresh SQLite store, day by day: the day's clock tick alone, then the day's events in batches of `--batch` (the
consumer's batch size by default), as bench_tick.py feeds them. No broker, no HTTP, no other service: what is
measured is what a consumed batch costs the service's event loop, which is where the pipeline benchmark found
the stage that lags (bench/README.md). Prints the events applied per second, the SQL statements sent per event
(counted at the driver), the CPU time of the process per event (its threads, the driver's included: less
moved by other processes' load than the elapsed time), and with `--profile` the top of a cProfile of the
applying (bench/profiling.py's format). `--rounds` feeds the year as the pipeline benchmark sends it (each
person's first event, then each one's second...), so that a batch of 500 is about 500 people. `--stalls` watches
the event loop meanwhile (bench/loop_stalls.py): its lag, the collector's passes, and the task steps that held it
longest, from where to where. As a service's host does once started, the heap built before the applying is
frozen out of the garbage collector (`--no-freeze` leaves it in). A tool for finding where the time goes, not a benchmark with a
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
from bench.loop_stalls import LoopStalls  # noqa: E402
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


async def run(service: str, people: int, days: int, batch: int, profile: Path | None,
              stalls: LoopStalls | None = None, rounds: bool = False, freeze: bool = True) -> dict[str, Any]:
    from prometheus_client import CollectorRegistry
    from sqlalchemy import event

    from contracts import topics
    from services.runtime.db import make_engine, make_read_engine, make_session_factory
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
        url = f"sqlite+aiosqlite:///{Path(scratch) / f'{service}.db'}"
        engine = make_engine(url)
        # As the service's host makes them (services/runtime/service.py): reads on an engine of their own.
        read_engine = make_read_engine(url)

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
                                  settings=settings, read_engine=read_engine,
                                  read_session_factory=make_session_factory(read_engine))
            wiring = await definition.start(ctx)
            processor = EventProcessor(service, factory, definition.tables, wiring.handler,
                                       RuntimeMetrics.create(service, registry), settings)
            if freeze:
                from services.runtime.loop_watch import freeze_startup_heap

                freeze_startup_heap()  # as the service's host does once started (the simulated year with it)
            offset = 0
            days_records = []  # built before anything is timed or watched: the tool's own work, not the service's
            for tick, events in (_in_rounds(year) if rounds else ((d.tick, d.events) for d in year.stream())):
                records = [Record(topics.CLOCK, 0, offset, b"clock", tick.to_json_bytes())]
                records += [Record(topics.INTAKE, 1, offset + 1 + n, e.subject.encode(), e.to_json_bytes())
                            for n, e in enumerate(events)]
                offset += len(records)
                days_records.append(records)
            if stalls is not None:
                stalls.reset()  # the setup's imports and migrations are not what is watched
                stalls.watching = False
            for records in days_records:
                chunks = [records[:1]] + [records[i:i + batch] for i in range(1, len(records), batch)]
                started, cpu_started = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                if stalls is not None:
                    stalls.watching = True
                for chunk in chunks:
                    await processor.process_batch(chunk)
                if stalls is not None:
                    stalls.watching = False
                if profiler:
                    profiler.disable()
                applying_s += time.perf_counter() - started
                cpu_s += time.process_time() - cpu_started
                applied += len(records)
        finally:
            await read_engine.dispose()
            await engine.dispose()
    if profiler and profile:
        profiler.dump_stats(str(profile))
    return {"service": service, "people": people, "days": days, "batch": batch, "events": applied,
            "seconds": round(applying_s, 2), "events_per_s": round(applied / applying_s, 1),
            "cpu_ms_per_event": round(cpu_s * 1000 / applied, 3),
            "statements_per_event": round(statements / applied, 2)}


def _in_rounds(year):  # noqa: ANN001, ANN202 - a simulated year; yields (tick, events) once
    """The whole year's events after its first tick, in rounds as the pipeline benchmark sends them (every
    person's first event, then every person's second...): consumed batches about as many people as events."""
    days = list(year.stream())
    by_person: dict[str, list] = {}
    for day in days:
        for e in day.events:
            by_person.setdefault(e.subject, []).append(e)
    rounds = [e for k in range(max(map(len, by_person.values()), default=0))
              for events in by_person.values() if k < len(events) for e in events[k:k + 1]]
    yield days[0].tick, rounds


async def _watched(stalls: LoopStalls | None, work):  # noqa: ANN001, ANN202 - the run's coroutine, its result
    if stalls is None:
        return await work
    async with stalls:
        return await work


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
    parser.add_argument("--rounds", action="store_true",
                        help="after the first tick, the year's events in rounds of one per person, as the pipeline "
                             "benchmark sends them: batches about as many people as events, no tick between")
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave the start-up heap to the garbage collector (the services freeze it once started)")
    parser.add_argument("--stalls", action="store_true",
                        help="watch the event loop while applying: its lag, and where it was held (bench/loop_stalls.py)")
    args = parser.parse_args()
    load = load_average()
    stalls = LoopStalls() if args.stalls else None
    if stalls is not None:
        stalls.watching = False  # from the first batch on (run() turns it on around each day's batches)
    result = asyncio.run(_watched(stalls, run(args.service, args.people, args.days, args.batch, args.profile,
                                              stalls, args.rounds,
                                              not args.no_freeze)))
    print(result, f"load {load} -> {load_average()}")
    if stalls is not None:
        print(stalls.summary())
    if args.save:
        path = write_result(f"apply-{args.service}", {**result, "label": args.label,
                                                      "machine": {"load_average_start": load}}, RESULTS)
        print(f"result {path}")
    if args.profile:
        print(top(args.profile, 30))


if __name__ == "__main__":
    main()
