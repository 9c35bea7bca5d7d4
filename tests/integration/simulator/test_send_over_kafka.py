"""A small preset sent over Kafka as partners send it: every event once on its structure's own topic
(ariane.inbound.v1.<structure id>, written as that structure's principal), in each person's order, keyed by the
subject; one tick per day on ariane.clock.v1, in day order."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from aiokafka import AIOKafkaConsumer

from contracts import topics
from contracts.events import parse_event
from simulator.driver import drive
from simulator.senders import KafkaSender
from simulator.year import simulate
from services.runtime.kafka_security import client_security
from tests.support.kafka import admin_security


async def _read_all(bootstrap: str, topic: str | list[str], expected: int, deadline_s: float = 60.0) -> list:
    consumer = AIOKafkaConsumer(*([topic] if isinstance(topic, str) else topic), bootstrap_servers=bootstrap,
                                **admin_security(bootstrap), group_id=None, auto_offset_reset="earliest",
                                isolation_level="read_committed", enable_auto_commit=False)
    await consumer.start()
    records = []
    try:
        deadline = time.monotonic() + deadline_s
        while len(records) < expected and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def test_a_preset_sent_to_the_inbound_topic_reads_back_whole(kafka_bootstrap: str, topic_prefix: str) -> None:
    year = simulate("cite-emploi-angers", people=12, seed=21, days=60)
    days = list(year.stream())
    expected = [e for d in days for e in d.events]
    drained_calls = 0

    async def drained() -> None:
        nonlocal drained_calls
        drained_calls += 1
        await asyncio.sleep(0)

    sender = KafkaSender(kafka_bootstrap, topic_prefix, resolve=False, security=admin_security(kafka_bootstrap),
                         partner_security=lambda structure: client_security(kafka_bootstrap, f"partner-{structure}"))
    await sender.start()
    try:
        stats = await drive(days, sender, drained=drained)
    finally:
        await sender.stop()
    assert stats.days == stats.ticks == 60 and stats.events == len(expected) and drained_calls == 120 and len(expected) > 40

    sources = sorted({e.source for e in expected})
    inbound = await _read_all(kafka_bootstrap, [topic_prefix + topics.inbound_topic(s) for s in sources],
                              len(expected))
    assert sorted(r.value for r in inbound) == sorted(e.to_json_bytes() for e in expected)
    per_key: dict[tuple[str, bytes], list[str]] = defaultdict(list)
    for record in sorted(inbound, key=lambda r: (r.topic, r.partition, r.offset)):
        event = parse_event(record.value)
        assert record.key == event.subject.encode()
        assert record.topic == topic_prefix + topics.inbound_topic(event.source)
        per_key[(event.source, record.key)].append(event.id)
    for (source, key), ids in per_key.items():
        assert ids == [e.id for e in expected if e.subject.encode() == key and e.source == source]

    clock = await _read_all(kafka_bootstrap, topic_prefix + topics.CLOCK, 60)
    ticks = [parse_event(r.value) for r in sorted(clock, key=lambda r: r.offset)]
    assert [t.data.day for t in ticks] == [d.day for d in days]
