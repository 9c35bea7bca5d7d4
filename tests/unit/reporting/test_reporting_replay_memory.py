"""The replay keeps its state out of the garbage collector's passes while it runs, and gives the collector back
as it found it: a replay runs inside longer-lived processes too (the benchmarks, a notebook), which must not be
left with a part of their memory never collected again."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from local.sample import sample_events
from services.reporting.domain.digest import digest
from services.reporting.domain.projection import fold
from services.reporting.domain.report import compute
from services.reporting.store.replay import default_replay_url, replay
from services.runtime.records import Record

PAIRS = sample_events(people=20, seed=5)


async def log(fail_after: int | None = None) -> AsyncIterator[list[Record]]:
    records = [Record(topic, 0, n, e.subject.encode(), e.to_json_bytes()) for n, (topic, e) in enumerate(PAIRS)]
    for number, start in enumerate(range(0, len(records), 50)):
        if fail_after is not None and number == fail_after:
            raise ConnectionError("the broker went away")
        yield records[start:start + 50]


async def test_a_replay_gives_its_figures_and_the_collector_back(tmp_path: Path) -> None:
    result = await replay(log(), database_url=default_replay_url(tmp_path))
    assert result.digest == digest(compute(fold(e for _, e in PAIRS)))
    assert result.records == len(PAIRS)
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


async def test_a_replay_that_fails_midway_gives_the_collector_back(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError):
        await replay(log(fail_after=2), database_url=default_replay_url(tmp_path))
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


async def test_an_interrupted_replay_closes_its_log_and_gives_the_collector_back(tmp_path: Path) -> None:
    # The auditor stops the replay (Ctrl-C) while the log is still being read: the reader, running ahead of
    # the fold, must close the log (its consumer) rather than be left suspended.
    closed = asyncio.Event()
    first_batch_read = asyncio.Event()

    async def endless() -> AsyncIterator[list[Record]]:
        records = [Record(topic, 0, n, e.subject.encode(), e.to_json_bytes()) for n, (topic, e) in enumerate(PAIRS)]
        try:
            yield records[:50]
            first_batch_read.set()
            await asyncio.Event().wait()  # the broker has nothing more yet
            yield records[50:]
        finally:
            closed.set()

    running = asyncio.ensure_future(replay(endless(), database_url=default_replay_url(tmp_path)))
    await first_batch_read.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert closed.is_set()
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()
