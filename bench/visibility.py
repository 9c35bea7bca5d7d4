"""When a record has been consumed for good: its group's committed offset, watched from outside.

A service commits its consumer offsets only after the database transaction that applied the batch has
committed, so "the group's committed offset is past the record" means "the record's effect is in the store"
(for reporting: in the documents every report and figure is read from). The same look serves the raw hop,
whose commit follows its produce acknowledgements. The watcher looks as often as the admin client answers
(a few milliseconds on loopback, plus `interval_s`) and keeps, for each partition, when the committed offset
moved; a record is visible at the first look that found the offset past it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


class CommitWatcher:
    def __init__(self, bootstrap: str, security: Mapping[str, Any], group: str, interval_s: float = 0.005):
        self.group, self.interval_s = group, interval_s
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
        self._times: dict[TopicPartition, list[float]] = {}
        self._offsets: dict[TopicPartition, list[int]] = {}
        self._task: asyncio.Task[None] | None = None
        self.looks = 0

    async def start(self) -> None:
        await self._admin.start()
        await self._look()  # where the group stands before anything is sent
        self._task = asyncio.create_task(self._run())

    async def _look(self) -> None:
        committed = await self._admin.list_consumer_group_offsets(self.group)
        now = time.perf_counter()
        self.looks += 1
        for tp, meta in committed.items():
            offsets = self._offsets.setdefault(tp, [])
            if meta.offset >= 0 and (not offsets or meta.offset > offsets[-1]):
                offsets.append(meta.offset)
                self._times.setdefault(tp, []).append(now)

    async def _run(self) -> None:
        while True:
            await self._look()
            await asyncio.sleep(self.interval_s)

    def visible_at(self, tp: TopicPartition, offset: int) -> float | None:
        """The time of the first look whose committed offset was past `offset`; None if none was yet."""
        offsets = self._offsets.get(tp, [])
        i = bisect.bisect_right(offsets, offset)  # first committed offset > offset
        return self._times[tp][i] if i < len(offsets) else None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._admin.close()


class OffsetTap:
    """Where each event was published on a topic, by its id: reads the topic (committed records only, as the
    services read it) from its end at start()."""

    def __init__(self, bootstrap: str, security: Mapping[str, Any], topic: str):
        self.topic = topic
        self.where: dict[str, tuple[TopicPartition, int]] = {}
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                          isolation_level="read_committed", fetch_max_wait_ms=50, **security)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        partitions = self._consumer.partitions_for_topic(self.topic)
        if not partitions:
            await self._consumer._client.force_metadata_update()  # noqa: SLF001 - a topic created before the start
            partitions = self._consumer.partitions_for_topic(self.topic) or set()
        parts = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self._consumer.assign(parts)
        await self._consumer.seek_to_end(*parts)
        for tp in parts:  # resolve the end now, so nothing sent after start() is skipped
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=2000)
            for tp, records in batches.items():
                for record in records:
                    event_id = json.loads(record.value).get("id")
                    if isinstance(event_id, str):
                        self.where.setdefault(event_id, (tp, record.offset))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()
