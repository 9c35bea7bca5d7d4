"""Day-tick cost and RSS of followup and referral on stores of 10k, 100k and 1M people, the same work due.

    python bench/bench_tick_scale.py [--services followup referral] [--base 1000] [--days 120]
                                     [--sizes 10000 100000] [--ticks 5]

Feeding a 100,000-person year through a service's handlers takes days on a small machine (bench_tick.py), so
the large stores are grown instead of fed:

1. a `--base`-person territory year (seed 7) goes through the service's own handlers into a SQLite store, day
   by day, all but its last `--ticks` days;
2. for each size, a copy of that store is multiplied up to the size: every row of a table with a `person_id`
   is copied with the person id (and every other text column of a primary key or unique index) suffixed, and
   the dates that make a person due on a tick (`wake_on`, `next_check_on`, `waits_until`) moved ten years on;
   ledger counters are multiplied alike. The copies are people the tick must not touch: the work due stays
   the base's;
3. a fresh process opens each grown store and runs the base year's last `--ticks` days (each tick alone,
   timed; then that day's events), and gives its RSS at the end.

A tick that costs O(items due) and a service whose memory does not follow the store give ratios near 1 between
sizes; one that reads every person gives the ratio of the sizes. Prints each run and the ratios to the smallest
size; writes bench/results/tick-scale-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_tick import day_bar, open_processor, run_day  # noqa: E402
from bench.machine import load_average, machine, rss_mib, write_result  # noqa: E402

DUE_COLUMNS = ("wake_on", "next_check_on", "waits_until")  # what puts a person on a tick's list
LATER = "+3650 days"


def _year(base: int, days: int):  # noqa: ANN202
    from simulator.year import simulate

    return simulate("territory", people=base, seed=7, days=days)


async def feed(service: str, base: int, days: int, ticks: int, store: Path) -> dict[str, Any]:
    """The base year into `store`, all but its last `ticks` days."""
    from services.runtime.db import make_engine

    year = _year(base, days)
    engine = make_engine(f"sqlite+aiosqlite:///{store}")
    applied, offset = 0, 0
    try:
        processor = await open_processor(service, engine)
        with day_bar(f"{service}: base of {base:,} people") as bar:
            task = bar.add_task("days", total=days - ticks)
            for day in year.stream():
                if day.index >= days - ticks:
                    break
                _tick_s, _apply_s, n, offset = await run_day(processor, day, offset)
                applied += n
                bar.update(task, advance=1)
    finally:
        await engine.dispose()
    return {"events": applied, "offset": offset}


def _unique_columns(con: sqlite3.Connection, table: str) -> set[str]:
    columns = {row[1] for row in con.execute(f'PRAGMA table_info("{table}")') if row[5]}
    for index in con.execute(f'PRAGMA index_list("{table}")'):
        if index[2]:  # unique
            columns |= {row[2] for row in con.execute(f'PRAGMA index_info("{index[1]}")')}
    return columns


def grow(store: Path, factor: int) -> int:
    """Copies every person of `store` factor - 1 times (see the module's docstring); returns the rows added."""
    if factor <= 1:
        return 0
    con = sqlite3.connect(store)
    added = 0
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            info = list(con.execute(f'PRAGMA table_info("{table}")'))
            names = [row[1] for row in info]
            if table.endswith("_ledger") and "count" in names:
                con.execute(f'UPDATE "{table}" SET count = count * ?', (factor,))
                continue
            if "person_id" not in names:
                continue
            unique = _unique_columns(con, table)
            key_columns = [row for row in info if row[5]]
            columns, values = [], []
            for _cid, name, kind, _notnull, _default, pk in info:
                kind = (kind or "").upper()
                if pk and len(key_columns) == 1 and kind.startswith("INT"):
                    continue  # a row id: the copy gets its own
                columns.append(f'"{name}"')
                if name in DUE_COLUMNS:
                    values.append(f"date(\"{name}\", '{LATER}')")
                elif name == "person_id" or (name in unique and not kind.startswith(("INT", "DATE", "BOOL"))):
                    values.append(f"\"{name}\" || '~' || copy.k")
                else:
                    values.append(f'"{name}"')
            before = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            con.execute(f'WITH RECURSIVE copy(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM copy WHERE k < ?) '
                        f'INSERT INTO "{table}" ({", ".join(columns)}) '
                        f'SELECT {", ".join(values)} FROM "{table}", copy', (factor - 1,))
            added += con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] - before
        con.commit()
        con.execute("ANALYZE")
    finally:
        con.close()
    return added


async def measure(service: str, base: int, days: int, ticks: int, store: Path, offset: int) -> dict[str, Any]:
    """The base year's last `ticks` days on the grown `store`: each tick timed alone."""
    from services.runtime.db import make_engine

    year = _year(base, days)
    engine = make_engine(f"sqlite+aiosqlite:///{store}")
    timed: list[float] = []
    try:
        processor = await open_processor(service, engine)
        for day in year.stream():
            if day.index < days - ticks:
                continue
            tick_s, _apply_s, _n, offset = await run_day(processor, day, offset)
            timed.append(tick_s)
    finally:
        await engine.dispose()
    return {"ticks_s": [round(t, 4) for t in timed], "tick_median_s": round(statistics.median(timed), 4),
            "tick_max_s": round(max(timed), 4), "rss_mib": rss_mib()}


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, *args], stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(services: list[str], base: int, days: int, sizes: list[int], ticks: int) -> dict[str, Any]:
    load_before = load_average()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for service in services:
            base_store = Path(scratch) / f"{service}-base.db"
            fed = _child("--feed", service, str(base), str(base_store), "--days", str(days), "--ticks", str(ticks))
            for size in sizes:
                store = Path(scratch) / f"{service}-{size}.db"
                shutil.copyfile(base_store, store)
                started = time.perf_counter()
                added = grow(store, max(1, size // base))
                grown_s = time.perf_counter() - started
                run = _child("--measure", service, str(base), str(store), str(fed["offset"]), "--days", str(days),
                             "--ticks", str(ticks))
                run.update(service=service, people=max(1, size // base) * base, rows_added=added,
                           grown_in_s=round(grown_s, 1), store_mib=round(store.stat().st_size / 2**20, 1))
                runs.append(run)
                store.unlink()
                print(f"{service:<9} {run['people']:>9,} people  store {run['store_mib']:8.1f} MiB  "
                      f"tick median {run['tick_median_s']:7.3f}s  max {run['tick_max_s']:7.3f}s  "
                      f"RSS {run['rss_mib']:7.1f} MiB  (grown in {grown_s:.0f} s)", flush=True)
    ratios: dict[str, Any] = {}
    for service in services:
        mine = [r for r in runs if r["service"] == service]
        small = mine[0]
        for large in mine[1:]:
            ratio = {"people": round(large["people"] / small["people"], 1),
                     "tick_median": round(large["tick_median_s"] / small["tick_median_s"], 2),
                     "tick_max": round(large["tick_max_s"] / small["tick_max_s"], 2),
                     "rss": round(large["rss_mib"] / small["rss_mib"], 2)}
            ratios[f"{service} {large['people']} / {small['people']}"] = ratio
            print(f"{service}: x{ratio['people']} people, same work due -> tick median x{ratio['tick_median']}, "
                  f"max x{ratio['tick_max']}, RSS x{ratio['rss']}")
    print(f"load average  start {load_before}  end {load_average()}")
    return {"runs": runs, "ratios": ratios, "base": base, "days": days, "ticks": ticks,
            "machine": machine() | {"load_average_start": load_before}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", nargs="+", default=["followup", "referral"])
    parser.add_argument("--base", type=int, default=1000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--feed", nargs=3, metavar=("SERVICE", "BASE", "STORE"), help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=4, metavar=("SERVICE", "BASE", "STORE", "OFFSET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.feed:
        print(json.dumps(asyncio.run(feed(args.feed[0], int(args.feed[1]), args.days, args.ticks,
                                          Path(args.feed[2])))))
    elif args.measure:
        print(json.dumps(asyncio.run(measure(args.measure[0], int(args.measure[1]), args.days, args.ticks,
                                             Path(args.measure[2]), int(args.measure[3])))))
    else:
        print(f"result        {write_result('tick-scale', main(args.services, args.base, args.days, args.sizes, args.ticks))}")
