"""An outbox record too large for one Kafka record is set aside as a dead letter, and the rows behind it go on.

Before, such a row was retried forever at the head of the outbox: every later event waited behind it and a
restart did not help. Here the limit is set low so that an ordinary event becomes "too large".
"""

from __future__ import annotations

import asyncio
import json

from contracts.topics import DEADLETTER
from local.kafka import create_topics
from tests.support.services import running_service, test_settings

from counter_service import DEFINITION
from health_io import health_once_outbox_empty
from kafka_io import produce, read_all
from test_crash_recovery import _event


def _padded(i: int, size: int) -> tuple[bytes, bytes]:
    key, value = _event(i)
    body = json.loads(value)
    body["data"]["pad"] = "x" * size
    return key, json.dumps(body).encode()


async def test_an_oversized_output_is_set_aside_and_the_next_events_are_published(
        kafka_bootstrap, topic_prefix, database_url):
    in_topic, out_topic = f"{topic_prefix}counter.in", f"{topic_prefix}counter.out"
    await create_topics(kafka_bootstrap, {in_topic: 1, out_topic: 1})
    # One partition: the small events sit right behind the large one, in the same outbox order.
    await produce(kafka_bootstrap, in_topic, [_event(0), _padded(1, 20_000), _event(2), _event(3)])

    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix,
                             max_record_bytes=8_192)
    async with running_service(DEFINITION, settings) as (_app, client):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        published: list = []
        while len(published) < 3:
            assert loop.time() < deadline, f"only {len(published)} of the 3 small outputs reached Kafka"
            await asyncio.sleep(0.2)
            published = await read_all(kafka_bootstrap, out_topic)
        letters = [json.loads(r.value) for r in await read_all(kafka_bootstrap, f"{topic_prefix}{DEADLETTER}")]
        health = await health_once_outbox_empty(client)
        metrics = (await client.get("/metrics")).text

    assert sorted(json.loads(r.value)["id"] for r in published) == ["evt-00000:counted", "evt-00002:counted", "evt-00003:counted"]
    assert len(letters) == 1
    letter = letters[0]
    assert letter["reason"].startswith("record_too_large")
    assert letter["source"]["topic"] == out_topic
    assert "x" * 100 not in json.dumps(letter), "the oversized original is not copied into the letter"
    assert health["outbox_pending"] == 0
    assert 'kind="outbox_record_set_aside"' in metrics
