"""How far behind a set of consumer groups is: the basis of "wait until the pipeline has drained".

Simulations and end-to-end runs send a day's events, wait until every service has consumed them and
published what they caused, then send the day's tick. That wait is measured here from Kafka itself:
committed offsets of each group against the end offsets of the topics it reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


@dataclass(frozen=True)
class Progress:
    lag: int  # records not yet committed by some group
    end_offsets_total: int  # grows whenever anything is published on the watched topics

    @property
    def idle(self) -> bool:
        return self.lag == 0


class PipelineWatcher:
    """Reusable admin + consumer connections, so a check costs two round trips, not two connections."""

    def __init__(self, bootstrap: str, groups: Mapping[str, Sequence[str]]) -> None:
        self.bootstrap = bootstrap
        self.groups = {g: list(topics) for g, topics in groups.items()}
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                          isolation_level="read_committed")
        self._partitions: list[TopicPartition] = []

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()
        topics = sorted({t for ts in self.groups.values() for t in ts})
        described = await self._admin.describe_topics(topics)
        self._partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def progress(self) -> Progress:
        ends = await self._consumer.end_offsets(self._partitions)
        lag = 0
        for group, topics in self.groups.items():
            committed = await self._admin.list_consumer_group_offsets(group)
            for tp in self._partitions:
                if tp.topic in topics:
                    done = committed.get(tp)
                    lag += max(0, ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0))
        return Progress(lag=lag, end_offsets_total=sum(ends.values()))
