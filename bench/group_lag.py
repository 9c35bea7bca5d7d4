"""Which consumer group is behind while the pipeline works: each group's lag, looked at once a second.

The pipeline benchmark times the whole pipeline until every group is at rest; that says how long, not which
stage held the others up. This sampler asks Kafka (as local/drain.py's watcher does: committed offsets against
end offsets, open transactions counted) for each group's lag separately, and keeps per group the peak, the mean
over the looks and the share of looks where it was the group furthest behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any

from local.drain import PipelineWatcher


async def lags(watcher: PipelineWatcher) -> dict[str, int]:
    """Each watched group's records not yet committed, from one look at the end offsets."""
    ends = await watcher._consumer.end_offsets(watcher._partitions)  # noqa: SLF001 - the watcher's own reader
    out: dict[str, int] = {}
    for group, group_topics in watcher.groups.items():
        committed = await watcher._admin.list_consumer_group_offsets(group)  # noqa: SLF001
        behind = 0
        for tp in watcher._partitions:  # noqa: SLF001
            if tp.topic in group_topics:
                done = committed.get(tp)
                behind += max(0, ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0))
        out[group] = behind
    return out


class GroupLagSampler:
    """Start it when the timed part begins, stop it once at rest; `summary()` per group."""

    def __init__(self, watcher: PipelineWatcher, every_s: float = 1.0) -> None:
        self.watcher = watcher
        self.every_s = every_s
        self.looks: list[dict[str, int]] = []
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # a missed look only thins the sample
                self.looks.append(await lags(self.watcher))
            await asyncio.sleep(self.every_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def summary(self, prefix: str = "") -> dict[str, Any]:
        peak: dict[str, int] = defaultdict(int)
        total: dict[str, int] = defaultdict(int)
        furthest: dict[str, int] = defaultdict(int)
        for look in self.looks:
            for group, behind in look.items():
                peak[group] = max(peak[group], behind)
                total[group] += behind
            if any(look.values()):
                furthest[max(look, key=look.__getitem__)] += 1
        n = len(self.looks) or 1
        return {group.removeprefix(prefix): {"peak": peak[group], "mean": round(total[group] / n, 1),
                                              "furthest_behind_share": round(furthest[group] / n, 2)}
                for group in sorted(peak)}
