"""A poison event goes to the dead-letter topic with its reason; the events behind it are processed."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import text

from contracts.topics import DEADLETTER
from services.runtime.deadletter import DeadLetter
from local.kafka import create_topics
from tests.support.services import running_service, test_settings

from counter_service import DEFINITION
from kafka_io import produce, read_all
from test_crash_recovery import _applied, _event


def _poison(i: int) -> tuple[bytes, bytes]:
    key, value = _event(i)
    body = json.loads(value)
    body["data"]["poison"] = True
    return key, json.dumps(body).encode()


async def test_poison_and_garbage_are_dead_lettered_and_the_partition_moves_on(
        kafka_bootstrap, topic_prefix, database_url):
    in_topic = f"{topic_prefix}counter.in"
    await create_topics(kafka_bootstrap, {in_topic: 1, f"{topic_prefix}counter.out": 1})
    # One partition, so the good events sit right behind the bad ones.
    records = [_event(0), _poison(1), (b"p_x", b"{not json"), _event(2), _event(2), _event(3)]
    await produce(kafka_bootstrap, in_topic, records)

    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix)
    async with running_service(DEFINITION, settings) as (_app, client):
        deadline = asyncio.get_running_loop().time() + 30
        while (await _applied(database_url))[0] < 3:
            assert asyncio.get_running_loop().time() < deadline, "the events behind the poison were not processed"
            await asyncio.sleep(0.1)
        letters = []
        while len(letters) < 2 and asyncio.get_running_loop().time() < deadline:
            letters = [DeadLetter.parse(r.value) for r in await read_all(kafka_bootstrap, f"{topic_prefix}{DEADLETTER}")]
            await asyncio.sleep(0.1)
        metrics = (await client.get("/metrics")).text

    # Three distinct good events applied once each (evt-2 came twice: the inbox skipped the copy).
    assert await _applied(database_url) == (3, 3, 3)
    assert len(letters) == 2
    by_offset = {letter["source"]["offset"]: letter for letter in letters}
    assert set(by_offset) == {1, 2}
    assert "asks to be refused" in by_offset[1]["reason"]
    assert by_offset[1]["original"] == records[1][1]
    assert by_offset[2]["reason"].startswith("unparseable or invalid event")
    assert by_offset[2]["original"] == b"{not json"
    assert 'ariane_events_dead_lettered_total{' in metrics
    assert 'ariane_events_duplicate_total{service="counter"' in metrics

    async def _inbox_rows() -> int:
        from services.runtime.db import make_engine

        engine = make_engine(database_url)
        async with engine.connect() as conn:
            n = (await conn.execute(text("SELECT count(*) FROM counter_inbox"))).scalar_one()
        await engine.dispose()
        return n

    # Good events and both letters are marked in the inbox: a restart would not dead-letter them twice.
    assert await _inbox_rows() == 5
