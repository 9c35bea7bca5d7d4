"""The consuming loop: poll a batch, apply it in one transaction, then commit the offsets.

Offsets are committed only after the database transaction, so a crash anywhere replays the batch and the
inbox turns the replay into duplicates. aiokafka is used directly here (not through a FastStream subscriber)
because the batch, the transaction and the commit must be one sequence under our control.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from services.runtime.kafka_security import client_security
from services.runtime.metrics import RuntimeMetrics
from services.runtime.processor import EventProcessor
from services.runtime.records import Record
from services.runtime.settings import RuntimeSettings

log = structlog.get_logger("ariane.consumer")


def make_consumer(bootstrap: str, group_id: str, topics: Sequence[str], settings: RuntimeSettings,
                  principal: str | None = None) -> AIOKafkaConsumer:
    """``principal``: who the consumer authenticates as (kafka_security); unset, the group id without its prefix."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        **client_security(bootstrap, principal or group_id.removeprefix(settings.topic_prefix).removeprefix("ariane-"),
                          settings),
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",  # the relays publish in transactions: never see an aborted batch
        max_poll_records=settings.consumer_batch_max,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=3000,
        max_poll_interval_ms=600000,
        # Short fetch waits: a read_committed fetch is not always woken when a transaction commits, and a
        # long wait there becomes latency on every hop of the pipeline.
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
    )


async def run_consumer(
    *,
    consumer: AIOKafkaConsumer,
    processor: EventProcessor,
    metrics: RuntimeMetrics,
    settings: RuntimeSettings,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    service = processor.service
    await consumer.start()
    if ready is not None:
        ready.set()
    log.info("consumer_started", topics=sorted(consumer.subscription()))
    loop = asyncio.get_running_loop()
    next_lag_update = 0.0
    committed: dict[TopicPartition, int] = {}
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=settings.consumer_poll_ms,
                                              max_records=settings.consumer_batch_max)
            records = [Record.from_consumer(r) for recs in batches.values() for r in recs]
            if records:
                await processor.process_batch(records)
            await _commit_positions(consumer, committed)
            if loop.time() >= next_lag_update:
                await _update_lag(consumer, metrics, service)
                next_lag_update = loop.time() + 1.0
    finally:
        await consumer.stop()
        log.info("consumer_stopped")


async def _commit_positions(consumer: AIOKafkaConsumer, committed: dict[TopicPartition, int]) -> None:
    """Commit, for each partition, the position just past what was handled.

    The position rather than "last record + 1": topics written in Kafka transactions end with a commit
    marker that is never handed out as a record, and a group parked before that marker would look one
    record behind forever. Every record before the position has been handled (returned records are all
    processed before this call), so committing it is safe.
    """
    offsets = {}
    for tp in consumer.assignment():
        position = await _position_if_still_assigned(consumer, tp)
        if position is not None and position > committed.get(tp, -1):
            offsets[tp] = position
    if not offsets:
        return
    try:
        await consumer.commit(offsets)
        committed.update(offsets)
    except CommitFailedError as exc:
        # A rebalance took the partitions away: the new owner replays, the inbox dedups.
        log.warning("commit_failed_after_rebalance", error=str(exc))
        committed.clear()


async def _position_if_still_assigned(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    """The partition's position, or None when a rebalance took it away since `assignment()` was read.

    A group whose members come and go (a second instance joining, one killed) revokes partitions between any two
    awaits; asking the position of a revoked partition raises IllegalStateError, which used to end the consumer
    loop and the instance with it. A revoked partition needs nothing from us: its new owner starts from the last
    committed offset, and the inbox makes what it replays a no-op."""
    try:
        return await consumer.position(tp)
    except IllegalStateError:
        log.info("partition_revoked_meanwhile", topic=tp.topic, partition=tp.partition)
        return None


async def _update_lag(consumer: AIOKafkaConsumer, metrics: RuntimeMetrics, service: str) -> None:
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue  # no fetch answered for this partition yet
        position = await _position_if_still_assigned(consumer, tp)
        if position is None:
            continue
        metrics.consumer_lag.labels(service, tp.topic, str(tp.partition)).set(max(0, highwater - position))
