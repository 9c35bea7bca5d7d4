"""A `drained()` for the driver: wait until the services' consumer groups have taken in everything sent.

Group names follow the runtime's convention, `<topic prefix>ariane-<service>`; the topics each service reads
are those of contracts.topics.READERS. A transactional write ends with a commit marker that takes an offset,
so a group that has read everything commits one below the end offset: "caught up" means at most one behind on
every partition, and nothing moved between two looks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts import topics

SERVICES = ("intake", "referral", "followup", "reporting")


def topics_read_by(service: str) -> tuple[str, ...]:
    return tuple(t for t, readers in topics.READERS.items() if service in readers)


class CaughtUp:
    """`async with CaughtUp(bootstrap, prefix) as drained: await drive(..., drained=drained)`."""

    def __init__(self, bootstrap: str, prefix: str = "", services: Iterable[str] = SERVICES,
                 timeout_s: float = 120.0, interval_s: float = 0.03):
        self.bootstrap, self.prefix = bootstrap, prefix
        self.groups = {s: topics_read_by(s) for s in services}
        self.timeout_s, self.interval_s = timeout_s, interval_s

    async def __aenter__(self) -> CaughtUp:
        self.admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self.admin.start()
        self.probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await self.probe.start()
        await self.probe._client.force_metadata_update()  # noqa: SLF001 - learn topics created before us
        self.parts = {s: [TopicPartition(self.prefix + t, p) for t in ts
                          for p in sorted(self.probe.partitions_for_topic(self.prefix + t) or ())]
                      for s, ts in self.groups.items()}
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.probe.stop()
        await self.admin.close()

    async def look(self) -> tuple[bool, list[tuple[str, str, int, int, int]]]:
        """(every group at most one behind everywhere, the offsets seen)."""
        caught_up, seen = True, []
        for service, parts in self.parts.items():
            committed = await self.admin.list_consumer_group_offsets(f"{self.prefix}ariane-{service}")
            ends = await self.probe.end_offsets(parts)
            for tp in parts:
                done = committed[tp].offset if tp in committed else 0
                caught_up &= ends[tp] - done <= 1
                seen.append((service, tp.topic, tp.partition, done, ends[tp]))
        return caught_up, seen

    async def __call__(self) -> None:
        deadline, last, same = time.monotonic() + self.timeout_s, None, 0
        while same < 2:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the services did not catch up within {self.timeout_s} s: {last}")
            caught_up, seen = await self.look()
            same = same + 1 if caught_up and seen == last else 0
            last = seen
            await asyncio.sleep(self.interval_s)
