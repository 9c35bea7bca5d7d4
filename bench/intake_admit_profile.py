"""Intake's admission alone, in this process: SQL statements per event by kind and CPU time per event, both ways.

    python bench/intake_admit_profile.py [--events 1500] [--batch 500] [--group 25] [--profile FILE]
                                         [--save --label CODE]

The pipeline benchmark's partner events (bench/pipeline_events.py) are admitted twice, each time into a fresh
SQLite store with intake's migrations: once as the consumer of the partners' topics does (the records of
ariane.inbound.v1.<structure>, through the runtime's processor in batches of `--batch`), once as POST
/v1/events does (one event per request, `--group` requests waiting together, admitted by `api.admissions` in
one transaction). No broker, no HTTP server, no relay: what is measured is what admitting costs intake's
process, which is where the pipeline benchmark found the stage that lags (bench/README.md, "Intake's door").
Then, in the store of the partners' topics, a referral.issued about each registered person three times (read
from ariane.referral.v1 in the same batches: `on_asked_to_act`, a grant each), measured on its own.
Prints, per way, the verdicts, the SQL statements per event (counted at the driver, by kind: the statement's
verb and its table), the CPU time of the process per event (its threads, the SQLite driver's included: less
moved by other processes' load than the elapsed time), and with `--profile` the top of a cProfile of both ways.
A tool for finding where the time goes, not a benchmark with a baseline: compare two runs of it made one after
the other on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import RESULTS, load_average, write_result  # noqa: E402
from bench.profiling import top  # noqa: E402

_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def statement_kind(sql: str) -> str:
    """`SELECT intake_people`, `INSERT outbox`, `SAVEPOINT`...: the verb, and the first table it names."""
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    table = _TABLE.search(sql)
    return f"{verb} {table.group(1)}" if table and verb in ("SELECT", "INSERT", "UPDATE", "DELETE") else verb


async def _intake(scratch: Path, name: str, kinds: Counter[str]):  # noqa: ANN202
    from prometheus_client import CollectorRegistry
    from sqlalchemy import event

    from services.intake.app import definition
    from services.intake.settings import IntakeSettings
    from services.runtime.db import make_engine, make_session_factory
    from services.runtime.migrate import upgrade_to_head
    from services.runtime.settings import RuntimeSettings

    settings = IntakeSettings(territory_secret="territory-secret-for-bench-0123456789",
                              master_key="master-key-for-bench-0123456789")
    service = definition(settings)
    engine = make_engine(f"sqlite+aiosqlite:///{scratch / f'{name}.db'}")

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        kinds[statement_kind(sql)] += 1

    await upgrade_to_head(engine, "intake", service.metadata, service.versions_dir)
    factory = make_session_factory(engine)
    runtime = RuntimeSettings(var_dir=scratch)
    ctx = SimpleNamespace(registry=CollectorRegistry(), session_factory=factory, engine=engine, name="intake",
                          settings=runtime, read_session_factory=factory, tables=service.tables)
    wiring = await service.start(ctx)
    kinds.clear()  # the migrations' statements are not admission's
    return service, ctx, wiring, engine


async def kafka_way(events: list[Any], batch: int, scratch: Path, profiler: cProfile.Profile | None
                    ) -> dict[str, Any]:
    from contracts import topics
    from services.runtime.metrics import RuntimeMetrics
    from services.runtime.processor import EventProcessor
    from services.runtime.records import Record

    kinds: Counter[str] = Counter()
    service, ctx, wiring, engine = await _intake(scratch, "kafka", kinds)
    try:
        processor = EventProcessor("intake", ctx.session_factory, service.tables, wiring.handler,
                                   RuntimeMetrics.create("intake", ctx.registry), ctx.settings,
                                   parsers=service.parsers, redact=service.redact)
        records = [Record(topics.inbound_topic(e.source), 0, n, None, e.to_json_bytes())
                   for n, e in enumerate(events)]
        async def apply_all() -> None:
            for i in range(0, len(records), batch):
                await processor.process_batch(records[i:i + batch])

        elapsed, cpu = await _timed(apply_all, profiler)
        verdicts = _verdicts(ctx.registry, "kafka")
        figures = _figures(len(events), elapsed, cpu, kinds, verdicts)
        # Then what referral and followup tell intake about these people (a structure asked to act on each of
        # them: on_asked_to_act, a grant each), read from ariane.referral.v1 in batches of the same size.
        asked = await _asked_records(ctx, service, wiring.deps)
        kinds.clear()

        async def apply_asked() -> None:
            for i in range(0, len(asked), batch):
                await processor.process_batch(asked[i:i + batch])

        elapsed, cpu = await _timed(apply_asked, profiler)
        figures["asked"] = _figures(len(asked), elapsed, cpu, kinds, {})
    finally:
        await engine.dispose()
    return figures


async def _asked_records(ctx: Any, service: Any, deps: Any) -> list[Any]:
    """A referral.issued about each person intake published a registration for, to another structure."""
    from datetime import date, datetime, timedelta, timezone

    from sqlalchemy import select

    from contracts import topics
    from contracts.referrals import ReferralIssued, ReferralIssuedData
    from services.runtime.records import Record

    outbox = service.tables.outbox
    async with ctx.session_factory() as session:
        people = list(dict.fromkeys(row[0] for row in (await session.exec(select(outbox.c.key).where(
            outbox.c.event_type == "fr.ariane.person.registered").order_by(outbox.c.id))).all()))
    structures = [s.id for s in deps.territory.structures]
    when = datetime(2026, 2, 4, 10, tzinfo=timezone.utc)
    events = [ReferralIssued(id=f"iss-bench-{n}", source=structures[0], subject=person, time=when,
                             data=ReferralIssuedData(referral_id=f"ref-bench-{n}", kind="prescription",
                                                     from_structure=structures[0],
                                                     to_structure=structures[1 + n % (len(structures) - 1)],
                                                     reason="prescription", due_date=date(2026, 2, 4) + timedelta(15)))
              for n, person in enumerate(people * 3)]  # three referrals a person, as a year brings several
    return [Record(topics.REFERRAL, 0, n, None, e.to_json_bytes()) for n, e in enumerate(events)]


async def http_way(events: list[Any], group: int, scratch: Path, profiler: cProfile.Profile | None
                   ) -> dict[str, Any]:
    from services.intake.api.admissions import Admissions

    kinds: Counter[str] = Counter()
    _service, ctx, wiring, engine = await _intake(scratch, "http", kinds)
    try:
        admissions = Admissions(ctx, wiring.deps)  # type: ignore[arg-type]
        bodies = [json.loads(e.to_json_bytes()) for e in events]
        async def admit_all() -> None:
            # Requests of one round arrive together (as the paced poster's do): one group per `group` requests.
            for i in range(0, len(bodies), group):
                await asyncio.gather(*(admissions.admit([body]) for body in bodies[i:i + group]))

        elapsed, cpu = await _timed(admit_all, profiler)
        verdicts = _verdicts(ctx.registry, "http")
    finally:
        await engine.dispose()
    return _figures(len(events), elapsed, cpu, kinds, verdicts)


async def _timed(work: Callable[[], Awaitable[None]], profiler: cProfile.Profile | None) -> tuple[float, float]:
    """Elapsed and CPU seconds of `work`, profiled if asked: the same measure for both ways."""
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    await work()
    if profiler:
        profiler.disable()
    return time.perf_counter() - started, time.process_time() - cpu


def _verdicts(registry: Any, ingress: str) -> dict[str, int]:
    counted: Counter[str] = Counter()
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == "ariane_intake_events_total" and sample.labels.get("ingress") == ingress:
                counted[sample.labels.get("outcome", "?")] += int(sample.value)
    return dict(counted)


def _figures(n: int, elapsed: float, cpu: float, kinds: Counter[str], verdicts: dict[str, int]) -> dict[str, Any]:
    return {"events": n, "verdicts": verdicts, "seconds": round(elapsed, 2), "events_per_s": round(n / elapsed, 1),
            "cpu_ms_per_event": round(cpu * 1000 / n, 2),
            "statements_per_event": round(sum(kinds.values()) / n, 2),
            "by_kind": {k: round(v / n, 2) for k, v in kinds.most_common()}}


async def run(events_wanted: int, batch: int, group: int, profile: Path | None) -> dict[str, Any]:
    from bench.pipeline_events import parts_of

    events = parts_of({"admit": events_wanted})["admit"].events
    profiler = cProfile.Profile() if profile else None
    with tempfile.TemporaryDirectory() as scratch:
        kafka = await kafka_way(events, batch, Path(scratch), profiler)
        http = await http_way(events, group, Path(scratch), profiler)
    if profiler and profile:
        profiler.dump_stats(str(profile))
    return {"events": len(events), "batch": batch, "group": group, "kafka": kafka, "http": http}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=500, help="records per consumed batch (the Kafka way)")
    parser.add_argument("--group", type=int, default=25, help="one-event requests admitted together (HTTP)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of both ways here and print its top")
    parser.add_argument("--log-level", default="INFO", help="intake's log level (the service's default: INFO)")
    parser.add_argument("--label", help="what code this is (e.g. a commit), kept in the result written with --save")
    parser.add_argument("--save", action="store_true", help="also write bench/results/intake-admit-<time>.json")
    args = parser.parse_args()
    from services.runtime.logs import configure_logging

    # As the service logs (JSON, at INFO, to stderr): what a log line costs is part of admitting.
    configure_logging("intake", level=args.log_level)
    load = load_average()
    result = asyncio.run(run(args.events, args.batch, args.group, args.profile))
    for way in ("kafka", "http"):
        figures = result[way]
        print(f"{way}: {figures['events']} events, verdicts {figures['verdicts']}, "
              f"{figures['statements_per_event']} statements/event, {figures['cpu_ms_per_event']} CPU ms/event, "
              f"{figures['events_per_s']} events/s")
        print("   by kind:", ", ".join(f"{k} {v}" for k, v in figures["by_kind"].items()))
        if "asked" in figures:
            asked = figures["asked"]
            print(f"{way} asked to act (referral.issued): {asked['events']} events, "
                  f"{asked['statements_per_event']} statements/event, {asked['cpu_ms_per_event']} CPU ms/event, "
                  f"{asked['events_per_s']} events/s")
            print("   by kind:", ", ".join(f"{k} {v}" for k, v in asked["by_kind"].items()))
    print(f"load {load} -> {load_average()}")
    if args.save:
        path = write_result("intake-admit", {**result, "label": args.label,
                                              "machine": {"load_average_start": load}}, RESULTS)
        print(f"result {path}")
    if args.profile:
        print(top(args.profile, 30))


if __name__ == "__main__":
    main()
