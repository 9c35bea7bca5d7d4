"""What followup's ledger check costs a day tick, with and without the recount, as the territory grows.

    python bench/followup_ledger_check.py [--people 10000 100000] [--rounds 5]

For each size, a fresh SQLite store of followup's tables holding that many persons (spread over the states)
with a ledger that agrees with them; then `store.ledger_check` timed with the recount from the person table
(what every tick ran before, and what a Sunday's tick and GET /v1/ledger run now) and without it (the counters
checked against each other: every other tick). Prints the median of `--rounds` for both and their ratio across
sizes. A check of the claim that the tick's ledger check no longer grows with the people; the whole tick is
bench_tick.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import load_average  # noqa: E402


async def run(people: int, rounds: int) -> tuple[float, float]:
    from sqlalchemy import insert

    from services.followup.domain import State
    from services.followup.store import KNOWN, LedgerRow, PersonRow, ledger_check, metadata
    from services.runtime.db import make_engine, make_session_factory

    states = [s.value for s in State]
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'followup.db'}")
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
                rows = [{"person_id": f"p{n:08d}", "state": states[n % len(states)], "facts": "[]", "emitted": "{}"}
                        for n in range(people)]
                await conn.execute(insert(PersonRow.__table__), rows)
                counts = {s: sum(1 for r in rows if r["state"] == s) for s in states}
                await conn.execute(insert(LedgerRow.__table__), [{"name": KNOWN, "count": people}] + [
                    {"name": s, "count": n} for s, n in counts.items()])
            factory = make_session_factory(engine)
            timings: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(rounds):
                for full in (True, False):
                    async with factory() as session:
                        started = time.perf_counter()
                        check = await ledger_check(session, full=full)
                        timings[full].append(time.perf_counter() - started)
                        assert check.balanced
        finally:
            await engine.dispose()
    return statistics.median(timings[True]), statistics.median(timings[False])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    load = load_average()
    results = {}
    for people in args.people:
        results[people] = asyncio.run(run(people, args.rounds))
        full, counters = results[people]
        print(f"{people:>9,} people  with the recount {full * 1000:8.2f} ms  counters only {counters * 1000:6.2f} ms")
    low, high = min(results), max(results)
    print(f"x{high / low:.0f} people -> with the recount x{results[high][0] / results[low][0]:.1f}, "
          f"counters only x{results[high][1] / results[low][1]:.1f}")
    print(f"load average start {load} end {load_average()}")


if __name__ == "__main__":
    main()
