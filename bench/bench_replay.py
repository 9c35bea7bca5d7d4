"""Replay throughput against a raw drain of the same topics, in the same run.

    python bench/bench_replay.py [--people 3000]

Produces a seeded territory story onto fresh topics of a real broker (KAFKA_BOOTSTRAP, or a local broker
started for the run), then times (1) a raw drain: the same reader, no parsing, and (2) the auditor's replay:
read, parse, fold, write the store in batches, report and digest. Prints events/s and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiokafka import AIOKafkaProducer  # noqa: E402

from services.reporting.app import CONSUMES  # noqa: E402
from services.reporting.store.replay import default_replay_url, read_log, replay  # noqa: E402
from local.sample import sample_events  # noqa: E402
from local.kafka import LocalKafka, ensure_topics  # noqa: E402


async def produce(bootstrap: str, prefix: str, people: int) -> int:
    pairs = sample_events(people=people, seed=42)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=20)
    await producer.start()
    try:
        futures = [await producer.send(prefix + t, e.to_json_bytes(), key=e.subject.encode()) for t, e in pairs]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(pairs)


async def raw_drain(bootstrap: str, physical: list[str]) -> tuple[int, float]:
    started = time.perf_counter()
    n = 0
    async for batch in read_log(bootstrap, physical):
        n += len(batch)
    return n, time.perf_counter() - started


async def main(bootstrap: str, people: int) -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    await ensure_topics(bootstrap, partitions=3, prefix=prefix)
    produced = await produce(bootstrap, prefix, people)
    physical = [prefix + t for t in CONSUMES]
    await raw_drain(bootstrap, physical)  # warm-up: metadata, page cache
    drained, drain_s = await raw_drain(bootstrap, physical)
    with tempfile.TemporaryDirectory() as scratch:
        result = await replay(read_log(bootstrap, physical), database_url=default_replay_url(Path(scratch)))
    drain_rate, replay_rate = drained / drain_s, result.records / result.seconds
    print(f"events produced        {produced}")
    print(f"raw drain              {drained} records in {drain_s:.2f}s = {drain_rate:,.0f} records/s")
    print(f"replay (fold+store)    {result.records} records in {result.seconds:.2f}s = {replay_rate:,.0f} events/s")
    print(f"replay / raw drain     {replay_rate / drain_rate:.2f}")
    print(f"digest                 {result.digest}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3000)
    args = parser.parse_args()
    if os.environ.get("KAFKA_BOOTSTRAP"):
        asyncio.run(main(os.environ["KAFKA_BOOTSTRAP"], args.people))
    else:
        with tempfile.TemporaryDirectory() as data, LocalKafka(Path(data)) as broker:
            asyncio.run(main(broker.bootstrap, args.people))
