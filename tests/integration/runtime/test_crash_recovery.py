"""Kill a service with SIGKILL at random points: every event is applied once and published once."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import httpx
from sqlalchemy import text

from services.runtime.db import make_engine
from local.kafka import create_topics, free_port

from kafka_io import produce, read_all

HERE = Path(__file__).parent
EVENTS = 3000
KILLS = 6


def _event(i: int) -> tuple[bytes, bytes]:
    person = f"p_{i % 37:03d}"
    body = {"specversion": "1.0", "id": f"evt-{i:05d}", "source": "test", "type": "test.happened",
            "subject": person, "time": datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat(), "data": {"n": i}}
    return person.encode(), json.dumps(body).encode()


def _spawn(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = log_path.open("ab")
    return subprocess.Popen([sys.executable, str(HERE / "counter_service.py")], env=env, stdout=log, stderr=log,
                            cwd=HERE.parents[2])


async def _applied(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            try:
                total, distinct = (await conn.execute(
                    text("SELECT count(*), count(DISTINCT event_id) FROM counter_applied"))).one()
                summed = (await conn.execute(text("SELECT coalesce(sum(count), 0) FROM counter_count"))).scalar_one()
            except Exception:  # noqa: BLE001 - tables not created yet by the first process
                return 0, 0, 0
        return total, distinct, summed
    finally:
        await engine.dispose()


async def _wait_healthy(port: int, proc: subprocess.Popen, deadline: float) -> None:
    async with httpx.AsyncClient() as client:
        while True:
            assert proc.poll() is None, "the service died while starting"
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "the service never became healthy"
            await asyncio.sleep(0.2)


async def test_sigkill_at_random_points_loses_nothing_and_counts_nothing_twice(
        kafka_bootstrap, topic_prefix, database_url, tmp_path):
    in_topic, out_topic = f"{topic_prefix}counter.in", f"{topic_prefix}counter.out"
    await create_topics(kafka_bootstrap, {in_topic: 3, out_topic: 3})
    await produce(kafka_bootstrap, in_topic, [_event(i) for i in range(EVENTS)])

    env = {**os.environ, "ARIANE_KAFKA_BOOTSTRAP": kafka_bootstrap, "ARIANE_DATABASE_URL": database_url,
           "ARIANE_KAFKA_PRINCIPAL": "admin",  # a test double, not a service with a principal of its own
           "ARIANE_TOPIC_PREFIX": topic_prefix, "ARIANE_CONSUMER_BATCH_MAX": "15", "ARIANE_RELAY_BATCH_MAX": "10",
           "ARIANE_CONSUMER_SESSION_TIMEOUT_MS": "6000", "ARIANE_CONSUMER_POLL_MS": "50",
           "COUNTER_PORT": str(free_port())}
    rng = random.Random(20261123)
    log_path = tmp_path / "counter.log"
    progress = []
    for _ in range(KILLS):
        proc = _spawn(env, log_path)
        # The random point is counted from the moment the service answers, not from its spawn: on a loaded
        # machine starting the interpreter alone can outlast a fixed delay, and every kill then lands before
        # the first event (the check at the end says so).
        await _wait_healthy(int(env["COUNTER_PORT"]), proc, asyncio.get_running_loop().time() + 120)
        await asyncio.sleep(rng.uniform(0.1, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        progress.append((await _applied(database_url))[0])

    # A last, undisturbed run finishes the work.
    proc = _spawn(env, log_path)
    try:
        deadline = asyncio.get_running_loop().time() + 120
        await _wait_healthy(int(env["COUNTER_PORT"]), proc, deadline)
        while (await _applied(database_url))[0] < EVENTS:
            assert asyncio.get_running_loop().time() < deadline, f"stuck; progress at kills: {progress}"
            assert proc.poll() is None, log_path.read_text()[-3000:]
            await asyncio.sleep(0.3)
        out = []
        while len(out) < EVENTS and asyncio.get_running_loop().time() < deadline:
            out = await read_all(kafka_bootstrap, out_topic)
            await asyncio.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0, log_path.read_text()[-1500:]

    total, distinct, summed = await _applied(database_url)
    # Each event applied exactly once, although some were surely redelivered after a kill.
    assert (total, distinct, summed) == (EVENTS, EVENTS, EVENTS), progress
    # Each emitted event published exactly once (read_committed hides the batches a kill aborted).
    out_ids = [json.loads(r.value)["id"] for r in await read_all(kafka_bootstrap, out_topic)]
    assert len(out_ids) == EVENTS
    assert sorted(out_ids) == sorted(f"evt-{i:05d}:counted" for i in range(EVENTS))
    assert any(0 < p < EVENTS for p in progress), f"the kills never landed mid-stream: {progress}"
