"""A territory year through the services as processes while faults are injected (local.chaos), then every
figure compared with the simulator's ground truth, the dead letters, the consumer lags and the duplicates.

`make chaos` runs the full size; tests/chaos/test_chaos_short.py runs a short one. From the command line:

    python -m tests.chaos.chaos_year --people 1000 --days 365 --database sqlite

Everything runs on what the run starts for itself: its own broker (in the run directory, so that it can be
killed and restarted), its own PostgreSQL cluster when asked (so that restarting it disturbs nobody), its own
topics and stores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from local.chaos import (BROKER_START_S, ChaosPipeline, Fault, Injector, PrivatePostgres, plan_faults, render_faults)
from local.kafka import LocalKafka
from simulator.driver import drive
from simulator.senders import HttpSender
from simulator.year import simulate
from tests.e2e.figures import (Mismatch, compare, expected_figures, expected_lost, registration_event_ids, render,
                               render_lost, reported_figures, reported_lost)
from tests.e2e.territory_run import detections_by_week, whole_worklist

# Two instances of every service (each consumes: intake reads the answers and the other services' topics): each
# kill of one is a rebalance of its group, and of the relay's leadership when it held it. Partners post to
# intake#1 only, so that its kills are also outages of the door.
INSTANCES = {"intake": 2, "referral": 2, "followup": 2, "reporting": 2}


@dataclass
class ChaosResult:
    database: str
    people: int
    days: int
    events_sent: int
    faults: list[Fault]
    figures: int  # compared
    mismatches: list[Mismatch]
    lost_expected: set
    lost_reported: set
    ref_of_person: dict[str, str]
    lags: dict[str, int]
    records: dict[str, int]  # topic -> records read (committed)
    duplicates: dict[str, list[str]]  # topic -> ids seen more than once
    dead_letters: Counter  # (service, reason) -> letters
    rejected: list[dict[str, Any]]
    unresolved: int
    supervisor_notes: list[str]
    not_registered: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load average at the start and at the end

    @property
    def ok(self) -> bool:
        return (not self.mismatches and self.lost_expected == self.lost_reported and not any(self.lags.values())
                and not any(self.duplicates.values()) and not self.rejected and self.unresolved == 0
                and all(f.back_at is not None for f in self.faults))

    def render(self) -> str:
        lines = [f"== chaos run on {self.database}: {self.people} people, {self.days} days, "
                 f"{self.events_sent} partner events; "
                 + ", ".join(f"{k} {v:.0f} s" for k, v in self.timings.items())
                 + f"; load average {self.load[0]:.2f} at the start, {self.load[1]:.2f} at the end",
                 "", "Faults injected", render_faults(self.faults), "",
                 f"Figures compared: {self.figures}, equal {self.figures - len(self.mismatches)}, "
                 f"differ {len(self.mismatches)}"
                 + (f" ({self.not_registered} scripted people start after the horizon: not compared)"
                    if self.not_registered else "")]
        if self.mismatches:
            lines.append(render(self.mismatches))
        lines.append(render_lost(self.lost_expected, self.lost_reported, self.ref_of_person))
        lines.append("consumer lag at the end: " + ", ".join(f"{k} {v}" for k, v in self.lags.items()))
        lines.append("records on each topic (committed), duplicated ids: " + ", ".join(
            f"{t.rsplit('.', 2)[-2]} {n}/{len(self.duplicates.get(t, []))}" for t, n in self.records.items()))
        if self.dead_letters:
            lines.append("dead letters: " + "; ".join(f"{n} from {service}: {reason}"
                                                      for (service, reason), n in self.dead_letters.items()))
        else:
            lines.append("dead letters: none")
        lines.append(f"partner events rejected by intake: {len(self.rejected)}; unresolved: {self.unresolved}")
        if self.supervisor_notes:
            lines.append("supervisor: " + " | ".join(self.supervisor_notes[-12:]))
        lines.append("RESULT: " + ("every figure equals the ground truth, nothing lost, nothing twice"
                                   if self.ok else "FAILED (see above)"))
        return "\n".join(lines)


class ChaosSender(HttpSender):
    """The simulator's HTTP sender, telling the injector which day the year is in."""

    def __init__(self, *args: Any, injector: Injector, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.injector = injector

    async def send_tick(self, tick) -> None:  # noqa: ANN001 - a DayStarted
        self.injector.day += 1
        await super().send_tick(tick)


async def read_topics(bootstrap: str, physical: list[str], security: dict[str, Any]
                      ) -> tuple[dict[str, int], dict[str, list[str]], Counter]:
    """Every committed record of the topics: how many, the ids seen twice, and the dead letters by reason."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                isolation_level="read_committed", auto_offset_reset="earliest", **security)
    await consumer.start()
    records: dict[str, int] = {}
    seen: dict[str, Counter] = {}
    letters: Counter = Counter()
    try:
        parts = [TopicPartition(t, p) for t in physical for p in (consumer.partitions_for_topic(t) or
                                                                    await _partitions(consumer, t))]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)  # read_committed: the last stable offsets
        remaining = {tp for tp in parts if ends[tp] > 0}
        for t in physical:
            records[t], seen[t] = 0, Counter()
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)
            for tp, recs in batches.items():
                for rec in recs:
                    body = json.loads(rec.value)
                    records[tp.topic] += 1
                    seen[tp.topic][body.get("id") or body.get("letter_id")] += 1
                    if tp.topic.endswith(topics.DEADLETTER):
                        letters[(body.get("service"), str(body.get("reason", ""))[:160])] += 1
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    duplicates = {t: sorted(i for i, n in c.items() if n > 1) for t, c in seen.items()}
    return records, duplicates, letters


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 - topics created before the consumer started
    return consumer.partitions_for_topic(topic) or set()


async def run_chaos_year(work_dir: Path, *, people: int, days: int, seed: int = 7, database: str = "sqlite",
                         kills_per_service: int = 3, broker_kills: int = 1, broker_pauses: int = 1,
                         store_faults: bool = True, kills_together: int = 1, instances: dict[str, int] | None = None,
                         log=print) -> ChaosResult:  # noqa: ANN001
    """The run, from nothing to the comparison; everything it started is stopped before it returns.

    ``store_faults``: also restart PostgreSQL (on PostgreSQL) or fill the reporting store's disk (on SQLite)."""
    began = time.monotonic()
    load_at_start = os.getloadavg()[0]
    timings: dict[str, float] = {}
    instances = dict(INSTANCES if instances is None else instances)
    kafka = LocalKafka(work_dir / "kafka", die_with_parent=True)
    postgres: PrivatePostgres | None = None
    pipeline: ChaosPipeline | None = None
    injector: Injector | None = None
    try:
        bootstrap = await asyncio.to_thread(kafka.start, BROKER_START_S)
        database_url = None
        if database == "postgresql":
            postgres = PrivatePostgres()
            await asyncio.to_thread(postgres.start)
            database_url = await postgres.create_database("ariane_chaos")
        pipeline = ChaosPipeline(run_dir=work_dir / "run", prefix=f"chaos-{uuid.uuid4().hex[:8]}.",
                                 database_url=database_url, instances=instances, kafka=kafka)
        await pipeline.start(bootstrap=bootstrap, timeout=300)  # a loaded machine starts eight services slowly
        timings["start"] = time.monotonic() - began

        year = simulate("territory", people=people, seed=seed, days=days,
                        territory=load_territory(DEFAULT_TERRITORY_FILE))
        truth = year.truth()
        faults = plan_faults(seed, days, instances, kills_per_service=kills_per_service, broker_kills=broker_kills,
                             broker_pauses=broker_pauses, kills_together=kills_together,
                             postgres_restarts=1 if postgres and store_faults else 0,
                             full_disks=("reporting",) if store_faults and not postgres else ())
        injector = Injector(pipeline, faults, seed=seed, postgres=postgres, log=log)

        # Idle connections dropped after 2 s, before uvicorn closes them (see tests/e2e/territory_run.py).
        client = httpx.AsyncClient(base_url=pipeline.url("intake"), timeout=60.0,
                                   limits=httpx.Limits(keepalive_expiry=2.0))
        # Patient: while intake is restarting the connection is refused; while the broker or the database is
        # away intake answers 503 with Retry-After. An answer 500 would stop the run.
        sender = ChaosSender(pipeline.url("intake"), pipeline.api_keys, pipeline.bootstrap, pipeline.prefix,
                             client=client, retries=2000, resolve_timeout_s=300.0, injector=injector,
                             security=pipeline.kafka_security())
        await sender.start()

        async def at_rest() -> None:
            await pipeline.day_boundary()
            injector.at_rest()

        mark = time.monotonic()

        def progress(day) -> None:  # noqa: ANN001 - a SimDay
            if (day.index + 1) % 30 == 0:
                log(f"  day {day.index + 1}/{days} after {time.monotonic() - mark:.0f} s")

        injector.start()
        try:
            stats = await drive(year.stream(), sender, drained=at_rest, on_day=progress)
        finally:
            await sender.stop()
            await client.aclose()
        await injector.done()
        await pipeline.drained()
        injector.at_rest()
        timings["drive"] = time.monotonic() - mark

        mark = time.monotonic()
        report, _digest = await pipeline.report()
        detections = await detections_by_week(pipeline, year.start, days)
        worklist = await whole_worklist(pipeline)
        ledger = await pipeline.ledger()
        directory = sender.directory.person_by_event
        person_of_ref = {ref: directory[event_id] for ref, event_id in
                         registration_event_ids(year.scripts).items() if event_id in directory}
        expected = expected_figures(truth)
        # People whose first event falls after the horizon never reach Ariane: the truth's state "unknown".
        not_registered = expected.pop("ledger/state/unknown", 0)
        reported = reported_figures(report, worklist, ledger, detections)
        lags = await pipeline.group_lags()
        physical = [pipeline.prefix + t for t in topics.ALL_TOPICS]
        records, duplicates, letters = await read_topics(bootstrap, physical, pipeline.kafka_security())
        timings["check"] = time.monotonic() - mark
        notes = list(pipeline.notes)
    finally:
        if injector is not None:
            await injector.stop()
        if pipeline is not None:
            await pipeline.stop()
        await asyncio.to_thread(kafka.stop)
        if postgres is not None:
            await asyncio.to_thread(postgres.remove)
    timings["total"] = time.monotonic() - began
    return ChaosResult(
        database=database, people=people, days=days, events_sent=stats.events, faults=faults,
        figures=len(expected.keys() | reported.keys()), mismatches=compare(expected, reported),
        lost_expected=expected_lost(truth, person_of_ref), lost_reported=reported_lost(worklist),
        ref_of_person={p: r for r, p in person_of_ref.items()}, lags=lags, records=records, duplicates=duplicates,
        dead_letters=letters, rejected=list(sender.rejected), unresolved=sender.unresolved,
        supervisor_notes=notes, not_registered=not_registered, timings=timings,
        load=(load_at_start, os.getloadavg()[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--kills", type=int, default=3, help="kill -9 of each service (spread over its instances)")
    parser.add_argument("--work-dir", type=Path, default=None, help="kept afterwards (logs); default: a temp dir")
    args = parser.parse_args(argv)
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    ok = True
    for database in databases:
        work = args.work_dir / database if args.work_dir else Path(tempfile.mkdtemp(prefix=f"ariane-chaos-{database}-"))
        print(f"chaos run on {database}: {args.people} people, {args.days} days, seed {args.seed}; files in {work}",
              flush=True)
        result = asyncio.run(run_chaos_year(work, people=args.people, days=args.days, seed=args.seed,
                                            database=database, kills_per_service=args.kills,
                                            log=lambda line: print(line, flush=True)))
        print(result.render(), flush=True)
        print(f"wall time: {result.timings['total']:.0f} s", flush=True)
        ok = ok and result.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
