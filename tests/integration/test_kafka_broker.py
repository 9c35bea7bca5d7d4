"""What the design leans on, proven against the real broker: idempotent keyed
delivery in order per key, Kafka transactions with read_committed, and the
topic layout that `ariane kafka start` creates."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from contracts.topics import ALL_TOPICS, SINGLE_PARTITION_TOPICS, inbound_topics
from local import kafka as kafka_local
from tests.support.kafka import admin_security

pytestmark = pytest.mark.kafka

READ_TIMEOUT_S = 30


async def _read_until(consumer: AIOKafkaConsumer, done, timeout: float = READ_TIMEOUT_S) -> list:
    """Collect records until ``done(records)`` is true; fail (not hang) after ``timeout`` seconds."""
    records: list = []
    async with asyncio.timeout(timeout):
        while not done(records):
            batch = await consumer.getmany(timeout_ms=500)
            for part in batch.values():
                records.extend(part)
    return records


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **admin_security(bootstrap))
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [p["partition"] for t in described for p in t["partitions"]]


async def _assigned_consumer(bootstrap: str, topic: str, **kwargs) -> AIOKafkaConsumer:
    partitions = await _partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **admin_security(bootstrap), enable_auto_commit=False, **kwargs)
    await consumer.start()
    assert partitions, f"no partitions known for {topic}"
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    return consumer


async def test_idempotent_producer_delivers_1000_keyed_messages_in_order_per_key(kafka_bootstrap, unique_topic):
    topic = await unique_topic(partitions=6)
    keys = [f"person-{i:02d}" for i in range(37)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sent: dict[str, list[int]] = defaultdict(list)
        futures = []
        for n in range(1000):
            key = keys[n % len(keys)]
            seq = len(sent[key])
            sent[key].append(seq)
            value = json.dumps({"key": key, "seq": seq}).encode()
            futures.append(await producer.send(topic, key=key.encode(), value=value))
        metadata = await asyncio.wait_for(asyncio.gather(*futures), READ_TIMEOUT_S)
        # the broker granted a producer id: idempotence is really on, not silently off
        assert producer._txn_manager is not None and producer._txn_manager.producer_id >= 0
    finally:
        await producer.stop()
    assert len({(m.partition, m.offset) for m in metadata}) == 1000

    consumer = await _assigned_consumer(kafka_bootstrap, topic)
    try:
        records = await _read_until(consumer, lambda rs: len(rs) >= 1000)
    finally:
        await consumer.stop()

    assert len(records) == 1000
    received: dict[str, list[int]] = defaultdict(list)
    partition_of: dict[str, set[int]] = defaultdict(set)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        body = json.loads(record.value)
        assert record.key.decode() == body["key"]
        received[body["key"]].append(body["seq"])
        partition_of[body["key"]].add(record.partition)
    assert received == sent  # every message once, and in send order for each key
    assert all(len(p) == 1 for p in partition_of.values())  # a key lives on one partition
    assert len({p for ps in partition_of.values() for p in ps}) > 1  # keys really spread out


async def test_transactions_commit_is_visible_and_abort_is_not_to_read_committed(kafka_bootstrap, unique_topic):
    topic = await unique_topic(partitions=1)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap), transactional_id=f"test-tx-{uuid.uuid4().hex[:8]}"
    )
    await producer.start()
    try:
        async with producer.transaction():
            for i in range(3):
                await producer.send(topic, key=b"k", value=f"committed-{i}".encode())
        await producer.begin_transaction()
        for i in range(3):
            await producer.send(topic, key=b"k", value=f"aborted-{i}".encode())
        await producer.abort_transaction()
        async with producer.transaction():  # a committed end marker, after the abort
            await producer.send(topic, key=b"k", value=b"end")
    finally:
        await producer.stop()

    def values_until_end(consumer_records):
        return [r.value.decode() for r in consumer_records]

    committed_reader = await _assigned_consumer(kafka_bootstrap, topic, isolation_level="read_committed")
    try:
        seen = values_until_end(await _read_until(committed_reader, lambda rs: any(r.value == b"end" for r in rs)))
    finally:
        await committed_reader.stop()
    assert seen == ["committed-0", "committed-1", "committed-2", "end"]

    # the aborted records were written to the log: only the isolation level hides them
    raw_reader = await _assigned_consumer(kafka_bootstrap, topic, isolation_level="read_uncommitted")
    try:
        raw = values_until_end(await _read_until(raw_reader, lambda rs: any(r.value == b"end" for r in rs)))
    finally:
        await raw_reader.stop()
    assert [v for v in raw if v.startswith("aborted-")] == ["aborted-0", "aborted-1", "aborted-2"]


async def test_describe_lists_every_topic_with_its_partition_count(kafka_bootstrap, local_kafka):
    info = await kafka_local.describe(kafka_bootstrap, local_kafka.data_dir if local_kafka else None)
    assert info.version.startswith("Apache Kafka")
    if local_kafka is not None:
        assert info.version == f"Apache Kafka {kafka_local.runtime_version()}"
        assert info.local
    every = [*ALL_TOPICS, *inbound_topics(s.id for s in load_territory(DEFAULT_TERRITORY_FILE).structures)]
    for topic in every:
        expected = 1 if topic in SINGLE_PARTITION_TOPICS else 6
        assert info.topics.get(topic) == expected, topic
    assert await kafka_local.ensure_topics(kafka_bootstrap) == []  # idempotent: nothing left to create
    # a prefixed namespace gets the same layout, once
    prefix = f"t{uuid.uuid4().hex[:8]}."
    assert len(await kafka_local.ensure_topics(kafka_bootstrap, partitions=2, prefix=prefix)) == len(every)
    assert await kafka_local.ensure_topics(kafka_bootstrap, partitions=2, prefix=prefix) == []
    prefixed = (await kafka_local.describe(kafka_bootstrap)).topics
    for topic in every:
        assert prefixed.get(prefix + topic) == (1 if topic in SINGLE_PARTITION_TOPICS else 2), topic


def test_starting_again_reuses_the_running_broker(local_kafka):
    if local_kafka is None:
        pytest.skip("KAFKA_BOOTSTRAP names an external broker")
    again = kafka_local.LocalKafka(local_kafka.data_dir)
    assert again.is_running()
    assert again.start(timeout=20) == local_kafka.bootstrap
    assert again.pid == local_kafka.pid
    assert kafka_local.resolve_bootstrap(local_kafka.data_dir) == local_kafka.bootstrap
