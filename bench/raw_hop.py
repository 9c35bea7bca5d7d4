"""The client's own limit for one pipeline step: a plain aiokafka consume→produce hop, nothing else.

A consumer group reads topic A (read_committed, with the services' batch size, poll and fetch waits), produces every
record's bytes to topic B with the services' producer settings (idempotent, acks from every in-sync replica, no
linger), waits for the acknowledgements and commits its positions: the skeleton of a service's batch, without a
database or a rule. The benchmark times it on the same event bytes as the pipeline, and observes it the same
way (its group's committed offsets).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.runtime.settings import RuntimeSettings

SERVICES = RuntimeSettings()  # the services' consumer defaults: batch size, poll and fetch waits
BATCH_MAX = SERVICES.consumer_batch_max


async def create_topics(bootstrap: str, security: Mapping[str, Any], names: list[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names])
    finally:
        await admin.close()


class RawHop:
    """Runs from start() to stop() as a task; ``hopped`` counts the records produced to B."""

    def __init__(self, bootstrap: str, security: Mapping[str, Any], source: str, target: str, group: str):
        self.bootstrap, self.security = bootstrap, dict(security)
        self.source, self.target, self.group = source, target, group
        self.hopped = 0
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._going = asyncio.Event()
        self._going.set()

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(self.source, bootstrap_servers=self.bootstrap, group_id=self.group,
                                          enable_auto_commit=False, auto_offset_reset="earliest",
                                          isolation_level="read_committed", max_poll_records=BATCH_MAX,
                                          fetch_max_wait_ms=SERVICES.consumer_fetch_max_wait_ms,
                                          **self.security)
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all",
                                          linger_ms=0, **self.security)
        await self._producer.start()
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None and self._producer is not None
        consumer, producer = self._consumer, self._producer
        committed: dict[TopicPartition, int] = {}
        while True:
            await self._going.wait()
            batches = await consumer.getmany(timeout_ms=SERVICES.consumer_poll_ms, max_records=BATCH_MAX)
            sent = [await producer.send(self.target, record.value, key=record.key)
                    for records in batches.values() for record in records]
            await asyncio.gather(*sent)
            self.hopped += len(sent)
            positions: dict[TopicPartition, int] = {}
            for tp in consumer.assignment():
                position = await consumer.position(tp)
                if position > committed.get(tp, -1):
                    positions[tp] = position
            if positions:
                await consumer.commit(positions)
                committed.update(positions)

    def hold(self) -> None:
        """Stop reading (and fetching) after the current batch, still a member of the group."""
        assert self._consumer is not None
        self._going.clear()
        self._consumer.pause(*self._consumer.assignment())

    def release(self) -> None:
        assert self._consumer is not None
        self._consumer.resume(*self._consumer.assignment())
        self._going.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    def failed(self) -> BaseException | None:
        if self._task is not None and self._task.done() and not self._task.cancelled():
            return self._task.exception()
        return None
