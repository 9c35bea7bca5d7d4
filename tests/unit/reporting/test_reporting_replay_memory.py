"""The replay keeps its state out of the garbage collector's passes while it runs, and gives the collector back
as it found it: a replay runs inside longer-lived processes too (the benchmarks, a notebook), which must not be
left with a part of their memory never collected again."""

from __future__ import annotations

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


async def test_a_replay_that_fails_midway_gives_the_collector_back(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError):
        await replay(log(fail_after=2), database_url=default_replay_url(tmp_path))
    assert gc.get_freeze_count() == 0
