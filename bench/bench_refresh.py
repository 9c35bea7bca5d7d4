"""What a refresh of reporting's metrics costs as the territory grows: the live figures against a whole reload.

    python bench/bench_refresh.py [--people 10000 100000] [--batch 500]

For each size, a simulated territory year (the `territory` mix; the `scale` preset's size by default) is folded
into a fresh reporting store except for its last `--batch` events. Then, in the same run and on the same store:

- **whole reload** (how the metrics were refreshed before): read every document and compute the whole report;
- **first load** of the live figures (once per process start): every person's share;
- **refresh**: the last events applied through the service's own processor, then one round of the metrics task,
  which reads only what was written since and recomputes the people concerned.

The live figures must equal the whole report's (checked after the refresh). A refresh should cost about the
same at every size (it grows with the new events), the whole reload in proportion to the territory. Prints
the ratios between sizes and writes bench/results/refresh-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

from bench.machine import load_average, rss_mib, write_result  # noqa: E402
from services.reporting.app import ReportingDeps  # noqa: E402
from services.reporting.domain.calendar import Period  # noqa: E402
from services.reporting.domain.projection import fold  # noqa: E402
from services.reporting.domain.report import compute  # noqa: E402
from services.reporting.handlers import HANDLERS  # noqa: E402
from services.reporting.metrics import LiveFigures, ReportCollector  # noqa: E402
from services.reporting.settings import ReportingSettings  # noqa: E402
from services.reporting.store import VERSIONS_DIR, load_state, metadata, tables, write_state  # noqa: E402
from services.reporting.tasks import refresh_figures  # noqa: E402
from services.runtime.db import make_engine, make_session_factory  # noqa: E402
from services.runtime.metrics import RuntimeMetrics  # noqa: E402
from services.runtime.migrate import upgrade_to_head  # noqa: E402
from services.runtime.processor import EventProcessor  # noqa: E402
from services.runtime.records import Record  # noqa: E402
from services.runtime.routing import route  # noqa: E402
from services.runtime.settings import RuntimeSettings  # noqa: E402
from simulator.year import simulate  # noqa: E402


def _scrape(collector: ReportCollector) -> list:
    return [(f.name, sorted((s.name, tuple(sorted(s.labels.items())), s.value) for s in f.samples))
            for f in collector.collect()]


async def one_size(people: int, batch: int, progress: Progress) -> dict[str, Any]:
    task = progress.add_task(f"{people:,} people: simulating", total=4)
    year = simulate("territory", people=people, seed=7)
    events = [e for day in year.stream() for e in (day.tick, *day.events)]
    seeded, fresh = events[:-batch], events[-batch:]
    progress.update(task, advance=1, description=f"{people:,} people: folding {len(seeded):,} events")
    deps = ReportingDeps.of(ReportingSettings())
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'reporting.db'}")
        try:
            await upgrade_to_head(engine, "reporting", metadata, VERSIONS_DIR)
            await write_state(engine, fold(seeded, zone=deps.zone))
            progress.update(task, advance=1, description=f"{people:,} people: whole reload")
            started = time.perf_counter()
            compute(await load_state(engine), Period(), deps.territory.id)
            whole_s = time.perf_counter() - started

            progress.update(task, advance=1, description=f"{people:,} people: live figures")
            collector = ReportCollector(deps.metrics.known)
            figures = LiveFigures(collector.bounded, deps.territory.id)
            started = time.perf_counter()
            first_people = await refresh_figures(engine, figures)
            first_s = time.perf_counter() - started
            collector.figures = figures

            processor = EventProcessor("reporting", make_session_factory(engine), tables, route(HANDLERS, deps),
                                       RuntimeMetrics.create("reporting"), RuntimeSettings())
            records = [Record("ariane.intake.v1", 0, n, e.subject.encode(), e.to_json_bytes())
                       for n, e in enumerate(fresh)]
            started = time.perf_counter()
            await processor.process_batch(records)
            apply_s = time.perf_counter() - started
            started = time.perf_counter()
            refreshed_people = await refresh_figures(engine, figures)
            refresh_s = time.perf_counter() - started

            whole = ReportCollector(deps.metrics.known)
            whole.report = compute(await load_state(engine), Period(), deps.territory.id)
            if _scrape(whole) != _scrape(collector):
                raise AssertionError(f"{people} people: the live figures differ from the whole report's")
            progress.update(task, advance=1, description=f"{people:,} people: done")
        finally:
            await engine.dispose()
    return {"people": people, "events": len(events), "new_events": batch,
            "whole_reload_s": round(whole_s, 3), "first_load_s": round(first_s, 3), "first_load_people": first_people,
            "apply_batch_s": round(apply_s, 3), "refresh_s": round(refresh_s, 4),
            "refresh_people": refreshed_people, "rss_mib_after": rss_mib()}


async def main(sizes: list[int], batch: int) -> dict[str, Any]:
    load_before = load_average()
    runs = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        for people in sizes:
            runs.append(await one_size(people, batch, bar))
    for run in runs:
        print(f"{run['people']:>9,} people  {run['events']:>10,} events   whole reload {run['whole_reload_s']:8.2f}s"
              f"   refresh after {batch} events {run['refresh_s']:7.3f}s ({run['refresh_people']} people)"
              f"   first load {run['first_load_s']:7.2f}s")
    result: dict[str, Any] = {"sizes": runs, "machine": {"load_average_start": load_before}}
    if len(runs) > 1:
        small, large = runs[0], runs[-1]
        result["ratio_people"] = round(large["people"] / small["people"], 2)
        result["ratio_refresh"] = round(large["refresh_s"] / small["refresh_s"], 2)
        result["ratio_whole_reload"] = round(large["whole_reload_s"] / small["whole_reload_s"], 2)
        print(f"x{result['ratio_people']} people: refresh x{result['ratio_refresh']}, "
              f"whole reload x{result['ratio_whole_reload']}")
    print(f"load average  start {load_before}  end {load_average()}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    outcome = asyncio.run(main(args.people, args.batch))
    print(f"result        {write_result('refresh', outcome)}")
