"""When the pipeline has drained: the one definition, used by the demo, the local pipeline and the tests.

Simulations and end-to-end runs send a day's events, wait until the services have consumed them and published
what they caused, then send the day's tick. Drained means, on consecutive looks:

1. every watched consumer group has committed **exactly** the end offset of every partition it reads;
2. no outbox row is waiting to be published (checked where the caller can see the outboxes);
3. the end offsets did not move from one look to the next, so nothing was published in between.

Why exactly the end offset, and not "at most one behind" as an earlier check allowed: the runtime's consumer
commits its *position*, which steps past the commit markers that Kafka transactions leave in the log, so a
group that has handled everything sits exactly at the end. One behind is a real record not handled yet (the
last partner event on a topic written without transactions).

Why the high watermark (end offsets as a read_uncommitted reader sees them), not the last stable offset: a
transaction still open is work in flight, and only the high watermark counts its records.

Why two looks suffice when the outboxes are visible: a look reads the offsets first, then the outboxes. An
outbox row published between those two reads moves the end offsets, which the next look sees. Where the
outboxes cannot be seen (services run in-process by a test), a row may wait in an outbox while every group is
at the end; `quiet_s` then asks for the at-rest looks to span longer than the relay's idle pause.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from local import catalogue
from services.runtime.kafka_security import ADMIN, client_security


@dataclass(frozen=True)
class Progress:
    lag: int  # records not yet committed by some group
    end_offsets_total: int  # grows whenever anything is published on the watched topics

    @property
    def idle(self) -> bool:
        return self.lag == 0


class NotDrained(TimeoutError):
    """The watched groups did not come to rest in time; the message says where they stood."""


def service_groups(services: Iterable[catalogue.Service], prefix: str = "") -> dict[str, list[str]]:
    """Each service's consumer group and the topics it reads, in the topic namespace ``prefix``."""
    return {prefix + s.group_id: [prefix + topic for topic in s.consumes] for s in services}


class PipelineWatcher:
    """How far behind a set of consumer groups is, from Kafka itself: committed offsets against end offsets.

    Keeps its admin and consumer connections, so a look costs round trips, not connections."""

    def __init__(self, bootstrap: str, groups: Mapping[str, Sequence[str]]) -> None:
        self.bootstrap = bootstrap
        self.groups = {g: list(topics) for g, topics in groups.items()}
        security = client_security(bootstrap, ADMIN)  # tooling: the admin principal
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
        # read_uncommitted: end offsets are high watermarks, which count the records of open transactions
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                          isolation_level="read_uncommitted", **security)
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
        # One round trip's wait instead of one per group: the end offsets and every group's commits are asked at
        # once. Their order does not matter: a record published between two of these reads moves the end offsets,
        # which the next look sees (wait_drained returns only on two equal looks).
        groups = list(self.groups.items())
        ends, *commits = await asyncio.gather(
            self._consumer.end_offsets(self._partitions),
            *(self._admin.list_consumer_group_offsets(group) for group, _ in groups))
        lag = 0
        for (group, topics), committed in zip(groups, commits):
            for tp in self._partitions:
                if tp.topic in topics:
                    done = committed.get(tp)
                    lag += max(0, ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0))
        return Progress(lag=lag, end_offsets_total=sum(ends.values()))


async def wait_drained(watcher: PipelineWatcher, *, timeout: float,
                       outbox_pending: Callable[[], Awaitable[int]] | None = None, quiet_s: float = 0.0,
                       interval_s: float = 0.03, rest_interval_s: float = 0.01) -> Progress:
    """Return once drained (see the module's docstring); raise NotDrained after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    previous: Progress | None = None
    rest_since = 0.0
    while True:
        progress = await watcher.progress()
        at_rest = progress.idle and (outbox_pending is None or await outbox_pending() == 0)
        now = time.monotonic()
        if at_rest and previous == progress:
            if now - rest_since >= quiet_s:
                return progress
        elif at_rest:
            previous, rest_since = progress, now
        else:
            previous = None
        if now > deadline:
            raise NotDrained(f"not drained within {timeout:.0f} s: {progress}")
        await asyncio.sleep(rest_interval_s if at_rest else interval_s)


class CaughtUp:
    """A `drained()` for the simulator's driver, over the services' consumer groups:
    `async with CaughtUp(bootstrap, prefix) as drained: await drive(..., drained=drained)`.

    Pass ``outbox_pending`` when the outboxes can be seen; without it, the at-rest looks must span ``quiet_s``."""

    def __init__(self, bootstrap: str, prefix: str = "", services: Iterable[str] | None = None,
                 timeout_s: float = 120.0, interval_s: float = 0.03, quiet_s: float = 0.06,
                 outbox_pending: Callable[[], Awaitable[int]] | None = None):
        chosen = catalogue.pipeline() if services is None else [catalogue.by_name(name) for name in services]
        self.watcher = PipelineWatcher(bootstrap, service_groups(chosen, prefix))
        self.timeout_s, self.interval_s, self.quiet_s = timeout_s, interval_s, quiet_s
        self.outbox_pending = outbox_pending

    async def __aenter__(self) -> CaughtUp:
        await self.watcher.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.watcher.stop()

    async def __call__(self) -> None:
        await wait_drained(self.watcher, timeout=self.timeout_s, outbox_pending=self.outbox_pending,
                           quiet_s=self.quiet_s, interval_s=self.interval_s, rest_interval_s=self.interval_s)
