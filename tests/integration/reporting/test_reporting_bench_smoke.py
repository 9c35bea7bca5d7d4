"""The short versions of `make bench`'s reporting benchmarks, on the real broker and database: each still checks
what its full run checks (equal record counts for the replay and its baselines, the replay's digest equal to
the in-memory fold's, the live metrics equal to the whole report's), only on a small territory."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench import bench_refresh, bench_replay  # noqa: E402


async def test_replay_bench_small(kafka_bootstrap: str, database_url: str) -> None:
    store = database_url if database_url.startswith("postgresql") else None
    result = await bench_replay.main(kafka_bootstrap, people=150, rounds=1, database_url=store, seed=3)
    assert result["records"] > 2000
    assert set(result["records_per_s"]) == {"raw_drain", "drain_validate", "replay"}


async def test_refresh_bench_small() -> None:
    with Progress(disable=True) as progress:
        run = await bench_refresh.one_size(300, 100, progress)
    assert run["refresh_people"] < run["first_load_people"]
