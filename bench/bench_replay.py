"""The auditor's replay against the client's own limit, on the same real topics, in the same run.

    python bench/bench_replay.py [--people 5000] [--rounds 3] [--database-url URL] [--smoke]

Writes a simulated territory year onto fresh topics of a real broker (KAFKA_BOOTSTRAP, or a local broker
started for the run) as the services write them: partner events on the intake topic, day ticks on the clock
topic, and the referral and followup services' own events (local/sample.py) on theirs; each topic with the
services' partition count, every write inside a Kafka transaction (so the log holds transaction markers, as
the relay's does). Then, in each round and in rotating order, times three readers of the whole log:

1. **raw drain**: a plain AIOKafkaConsumer getmany loop (read_committed, every partition assigned, up to the
   end offsets seen at start), counting records: the client's limit;
2. **drain + validation**: the same loop, each record's bytes validated by the contract models
   (`event_adapter.validate_json`): the floor of any reader that must trust what it folds;
3. **replay**: `ariane replay`'s path (its reader, parse, fold, bulk write of a fresh store, report, digest).

One warm-up round of all three is run first and not counted; each figure is the median of the rounds. The
record counts of the three must be equal (and equal to what was written), and the replay's digest must equal
the digest of the pure in-memory fold of the same events (the report as it was always computed). Prints the
ratios and writes bench/results/replay-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: E402
from sqlalchemy import delete  # noqa: E402

from bench.machine import load_average, machine, write_result  # noqa: E402
from contracts import topics  # noqa: E402
from contracts.envelope import Envelope  # noqa: E402
from contracts.events import event_adapter  # noqa: E402
from local.kafka import LocalKafka  # noqa: E402
from local.kafka.topics import create_topics, ensure_topics, topic_plan  # noqa: E402
from local.sample import sample_events  # noqa: E402
from services.reporting.app import CONSUMES  # noqa: E402
from services.reporting.domain.digest import digest  # noqa: E402
from services.reporting.domain.projection import fold  # noqa: E402
from services.reporting.domain.report import compute  # noqa: E402
from services.reporting.store.replay import default_replay_url, fresh_store, read_log, replay  # noqa: E402
from services.reporting.store.schema import document_table  # noqa: E402
from simulator.year import simulate  # noqa: E402

try:  # who the benchmark is on a broker that authenticates its clients
    from services.runtime.kafka_security import client_security
except ImportError:  # pragma: no cover - a broker without authentication
    def client_security(bootstrap: str, principal: str) -> dict[str, Any]:  # noqa: ARG001
        return {}

PARTITIONS = 6  # the services' topics (local/kafka/topics.py); the clock has one
TRANSACTION_RECORDS = 500  # records per Kafka transaction, as the relay publishes a consumed batch
FETCH_MAX = 5000
BROKER_START_S = 240  # a loaded machine starts the JVM slowly


def the_year(people: int, seed: int) -> list[tuple[str, Envelope]]:
    """(logical topic, event): a simulated year (ticks and partner events), then the services' own events."""
    year = simulate("territory", people=people, seed=seed)
    pairs: list[tuple[str, Envelope]] = []
    for day in year.stream():
        pairs.append((topics.CLOCK, day.tick))
        pairs.extend((topics.INTAKE, event) for event in day.events)
    pairs.extend((t, e) for t, e in sample_events(people=max(40, people // 5), seed=seed, with_clock=False)
                 if t in (topics.REFERRAL, topics.FOLLOWUP))
    return pairs


async def produce(bootstrap: str, prefix: str, pairs: list[tuple[str, Envelope]]) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **client_security(bootstrap, "admin"),
                                enable_idempotence=True, transactional_id=f"bench-{uuid.uuid4().hex[:8]}",
                                linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        for start in range(0, len(pairs), TRANSACTION_RECORDS):
            async with producer.transaction():
                futures = [await producer.send(prefix + t, e.to_json_bytes(), key=e.subject.encode())
                           for t, e in pairs[start:start + TRANSACTION_RECORDS]]
                await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(pairs)


async def drain(bootstrap: str, physical: list[str], *, validate: bool) -> tuple[int, float]:
    """A plain getmany loop over every partition, up to the end offsets seen at start."""
    started = time.perf_counter()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **client_security(bootstrap, "admin"),
                                enable_auto_commit=False, group_id=None, isolation_level="read_committed",
                                auto_offset_reset="earliest", max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    count = 0
    check = event_adapter.validate_json
    try:
        parts = []
        for topic in physical:
            found = consumer.partitions_for_topic(topic)
            if found is None:
                await consumer._client.force_metadata_update()  # noqa: SLF001 - first look at a topic
                found = consumer.partitions_for_topic(topic) or set()
            parts.extend(TopicPartition(topic, p) for p in sorted(found))
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        await consumer.seek_to_beginning(*parts)
        remaining = {tp for tp in parts if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=500, max_records=FETCH_MAX)
            for tp, recs in batches.items():
                for rec in recs:
                    if rec.offset < ends[tp]:
                        count += 1
                        if validate:
                            check(rec.value)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return count, time.perf_counter() - started


async def _clear(url: str) -> None:
    engine = await fresh_store(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(document_table))
    finally:
        await engine.dispose()


async def replay_once(bootstrap: str, physical: list[str], database_url: str | None
                      ) -> tuple[int, float, str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as scratch:
        url = database_url or default_replay_url(Path(scratch))
        if database_url:
            await _clear(url)
        started = time.perf_counter()
        result = await replay(read_log(bootstrap, physical, raw=True), database_url=url)
        return result.records, time.perf_counter() - started, result.digest, result.phases


async def main(bootstrap: str, people: int, rounds: int, database_url: str | None, seed: int) -> dict[str, Any]:
    load_before = load_average()
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    try:  # the topics with their principals' rights, as the system's own
        await ensure_topics(bootstrap, partitions=PARTITIONS, prefix=prefix)
    except Exception:  # noqa: BLE001 - a broker without an authorizer takes no rights: the topics alone
        await create_topics(bootstrap, topic_plan(PARTITIONS, prefix))
    pairs = the_year(people, seed)
    produced = await produce(bootstrap, prefix, pairs)
    expected = digest(compute(fold(e for _, e in pairs)))  # the pure fold: the digest as always computed
    physical = [prefix + t for t in CONSUMES]
    # The year's events are not needed any more: kept, the collector's full passes would walk them during
    # each reader's run (the replay's allocations trigger such passes, the drains' hardly), at the replay's cost.
    del pairs

    runs: dict[str, list[float]] = {"raw_drain": [], "drain_validate": [], "replay": []}
    counts: dict[str, set[int]] = {name: set() for name in runs}
    digests: set[str] = set()
    phases: dict[str, list[float]] = {}

    async def one(name: str) -> tuple[int, float]:
        if name == "replay":
            n, seconds, d, parts = await replay_once(bootstrap, physical, database_url)
            digests.add(d)
            for part, part_seconds in parts.items():
                phases.setdefault(part, []).append(part_seconds)
            return n, seconds
        return await drain(bootstrap, physical, validate=name == "drain_validate")

    names = list(runs)
    for r in range(rounds + 1):  # round 0 warms every reader alike and is not counted
        for name in names[r % 3:] + names[:r % 3]:
            n, seconds = await one(name)
            counts[name].add(n)
            if r:
                runs[name].append(n / seconds)
    if any(c != {produced} for c in counts.values()):
        raise AssertionError(f"record counts differ: produced {produced}, read {counts}")
    if digests != {expected}:
        raise AssertionError(f"digest differs from the in-memory fold: {digests} != {expected}")
    rate = {name: statistics.median(values) for name, values in runs.items()}
    result = {
        "people": people, "records": produced, "rounds": rounds, "partitions": PARTITIONS,
        "database": (database_url or "sqlite").split(":", 1)[0],
        "records_per_s": {k: round(v) for k, v in rate.items()},
        "all_rounds_records_per_s": {k: [round(x) for x in v] for k, v in runs.items()},
        "ratio_replay_to_raw_drain": round(rate["replay"] / rate["raw_drain"], 3),
        "ratio_replay_to_drain_validate": round(rate["replay"] / rate["drain_validate"], 3),
        "ratio_drain_validate_to_raw_drain": round(rate["drain_validate"] / rate["raw_drain"], 3),
        "replay_phases_s": {k: [round(x, 3) for x in v[1:]] for k, v in phases.items()},  # the counted rounds
        "digest": expected,
        "machine": {"load_average_start": load_before},
    }
    print(f"records (each reader)      {produced:,} ({people:,} people, a year; {PARTITIONS} partitions, "
          "transactional)")
    for name in names:
        print(f"{name:<26} {rate[name]:>10,.0f} records/s   rounds: {', '.join(f'{x:,.0f}' for x in runs[name])}")
    for part, values in result["replay_phases_s"].items():
        print(f"  replay's {part:<16} {', '.join(f'{x:.2f}' for x in values)} s")
    print(f"replay / raw drain         {result['ratio_replay_to_raw_drain']:.3f}")
    print(f"replay / drain+validation  {result['ratio_replay_to_drain_validate']:.3f}")
    print(f"digest (= in-memory fold)  {expected}")
    print(f"load average               start {load_before}  end {load_average()}  ({machine()['nproc']} CPUs)")
    return result


def run(people: int, rounds: int, database_url: str | None, seed: int = 42, write: bool = True) -> dict[str, Any]:
    if os.environ.get("KAFKA_BOOTSTRAP"):
        result = asyncio.run(main(os.environ["KAFKA_BOOTSTRAP"], people, rounds, database_url, seed))
    else:
        with tempfile.TemporaryDirectory() as data:
            broker = LocalKafka(Path(data))
            broker.start(timeout=BROKER_START_S)
            try:
                result = asyncio.run(main(broker.bootstrap, people, rounds, database_url, seed))
            finally:
                broker.stop()
    if write:
        print(f"result                     {write_result('replay', result)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default=os.environ.get("ARIANE_DATABASE_URL"),
                        help="A PostgreSQL store to replay into (emptied each round); default: a fresh SQLite file")
    args = parser.parse_args()
    run(args.people, args.rounds, args.database_url, args.seed)
