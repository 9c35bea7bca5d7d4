"""The replay's own work alone, in memory: the same log as bench_replay.py, without the broker, under cProfile.

    python bench/replay_profile.py [--people 2000] [--rounds 3] [--profile FILE] [--database-url URL]

The events of bench_replay.py's simulated year (the same seed and people) are encoded once as the bytes a
record carries; each round hands them, in batches of the reader's size, to the replay itself (parse, fold,
bulk write of a fresh store, report, digest), with no broker. The digest must equal the pure in-memory fold's.
Prints events/s per round and the CPU time of the process per event (its threads, the database driver's
included), and with `--profile` the top of a cProfile of one more round (bench/profiling.py's format). The
broker's part is what bench_replay.py measures against its raw drain; this is the part the code decides, and it
is moved far less by other processes' load than the elapsed time: a tool to compare two versions of the code
one after the other on the same machine, not a benchmark with a baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_replay import the_year  # noqa: E402
from bench.machine import load_average  # noqa: E402
from bench.profiling import top  # noqa: E402
from services.reporting.domain.digest import digest  # noqa: E402
from services.reporting.domain.projection import fold  # noqa: E402
from services.reporting.domain.report import compute  # noqa: E402
from services.reporting.store.replay import FETCH_MAX, default_replay_url, replay  # noqa: E402


async def _batches(values: list[bytes]) -> AsyncIterator[list[Any]]:
    for start in range(0, len(values), FETCH_MAX):
        yield [SimpleNamespace(value=v) for v in values[start:start + FETCH_MAX]]


async def _once(values: list[bytes], database_url: str | None) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory() as scratch:
        url = database_url or default_replay_url(Path(scratch))
        if database_url:
            from bench.bench_replay import _clear
            await _clear(url)
        cpu, wall = time.process_time(), time.perf_counter()
        result = await replay(_batches(values), database_url=url)
        return time.perf_counter() - wall, time.process_time() - cpu, result.digest


def run(people: int, rounds: int, profile: Path | None, database_url: str | None, seed: int = 42) -> dict[str, Any]:
    load_before = load_average()
    events = [e for _, e in the_year(people, seed)]
    values = [e.to_json_bytes() for e in events]
    expected = digest(compute(fold(events)))
    del events  # kept, the collector's full passes would walk them during the replay, at its cost
    walls, cpus = [], []
    for _ in range(rounds + 1):  # the first round warms caches and imports, and is not counted
        wall, cpu, got = asyncio.run(_once(values, database_url))
        if got != expected:
            raise AssertionError(f"replay digest {got} != in-memory fold {expected}")
        walls.append(wall)
        cpus.append(cpu)
    walls, cpus = walls[1:], cpus[1:]
    best = min(walls)
    print(f"events                 {len(values):,} ({people:,} people, a year)")
    print(f"replay in memory       {len(values) / best:,.0f} events/s (best of {rounds}; rounds "
          f"{', '.join(f'{len(values) / w:,.0f}' for w in walls)})")
    print(f"CPU per event          {min(cpus) / len(values) * 1e6:.1f} µs")
    print(f"digest (= fold)        {expected}")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        wall, _, _ = asyncio.run(_once(values, database_url))
        profiler.disable()
        profiler.dump_stats(str(profile))
        print(f"under cProfile         {len(values) / wall:,.0f} events/s ({wall:.2f} s)")
        print(top(profile, 30))
    print(f"load average           start {load_before}  end {load_average()}")
    return {"events": len(values), "events_per_s": len(values) / best, "cpu_us_per_event": min(cpus) / len(values) * 1e6,
            "digest": expected}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", type=Path, help="write a cProfile of one more round here and print its top")
    parser.add_argument("--database-url", default=os.environ.get("ARIANE_DATABASE_URL"),
                        help="A PostgreSQL store to replay into (emptied each round); default: a fresh SQLite file")
    args = parser.parse_args()
    run(args.people, args.rounds, args.profile, args.database_url, args.seed)
