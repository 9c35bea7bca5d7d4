"""One simulated year through the whole system, as `ariane demo` runs it: the four services as processes on the
real broker, the partner events over HTTP with each structure's API key, a drain check between days; then
what Ariane serves (report, digest, the coordinator's whole worklist, ledger) next to the ground truth."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from local.pipeline import LocalPipeline
from simulator.driver import drive
from simulator.senders import HttpSender
from simulator.year import SimulatedYear, simulate
from tests.e2e.figures import registration_event_ids, week_of


@dataclass
class YearRun:
    year: SimulatedYear
    truth: dict[str, Any]
    report: dict[str, Any]
    digest: str
    detections: dict[str, int]  # ISO week -> people detected lost that week, from the report of that week
    worklist: list[dict[str, Any]]
    ledger: dict[str, Any]
    rejected: list[dict[str, Any]]
    unresolved: int
    unresolved_examples: list[str]
    person_of_ref: dict[str, str]
    events_sent: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ref_of_person(self) -> dict[str, str]:
        return {person: ref for ref, person in self.person_of_ref.items()}


async def whole_worklist(pipeline: LocalPipeline) -> list[dict[str, Any]]:
    """Every line of the coordinator's worklist, page after page."""
    assert pipeline.client is not None
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await pipeline.client.get(
            f"{pipeline.url('followup')}/v1/worklist", params={"page": page, "page_size": 1000},
            headers=pipeline.coordinator_auth())
        body = response.raise_for_status().json()
        items += body["items"]
        if not body["items"] or len(items) >= body["total"]:
            return items
        page += 1


async def detections_by_week(pipeline: LocalPipeline, start: date, days: int) -> dict[str, int]:
    """People detected lost in each ISO week of the year, from the report restricted to that week (the report
    counts a lost person in a period when a detection day falls in it)."""
    assert pipeline.client is not None
    out: dict[str, int] = {}
    monday = start - timedelta(days=start.weekday())
    while monday < start + timedelta(days=days):
        sunday = monday + timedelta(days=6)
        response = await pipeline.client.get(f"{pipeline.url('reporting')}/v1/report", headers=pipeline.coordinator_auth(),
                                             params={"start": monday.isoformat(), "end": sunday.isoformat()})
        out[week_of(monday)] = response.raise_for_status().json()["lost_reengaged"]["lost"]
        monday += timedelta(days=7)
    return out


async def run_year(pipeline: LocalPipeline, *, bootstrap: str, people: int, seed: int, days: int = 365,
                   truth_territory: Path = DEFAULT_TERRITORY_FILE) -> YearRun:
    """Start the pipeline, drive the `territory` preset through it, read everything back. The caller stops the
    pipeline. The truth is computed with `truth_territory`, whatever territory file the services were given."""
    timings: dict[str, float] = {}
    began = time.monotonic()
    await pipeline.start(bootstrap=bootstrap)
    timings["start"] = time.monotonic() - began

    mark = time.monotonic()
    year = simulate("territory", people=people, seed=seed, days=days, territory=load_territory(truth_territory))
    year.write(pipeline.run_dir / "simulation")
    truth = year.truth()
    timings["simulate"] = time.monotonic() - mark

    # Idle connections are dropped by the client after 2 s, before uvicorn closes them (5 s): with the
    # default 5 s on both sides a POST could go out on a connection the server was closing (httpx.ReadError).
    client = httpx.AsyncClient(base_url=pipeline.url("intake"), timeout=60.0,
                               limits=httpx.Limits(keepalive_expiry=2.0))
    sender = HttpSender(pipeline.url("intake"), pipeline.api_keys, pipeline.bootstrap, pipeline.prefix,
                        client=client, security=pipeline.kafka_security())
    await sender.start()
    drive_began = time.monotonic()

    def progress(day) -> None:  # noqa: ANN001 - a SimDay
        if (day.index + 1) % 60 == 0:
            print(f"  day {day.index + 1}/{days} after {time.monotonic() - drive_began:.0f} s, "
                  f"{sender.unresolved} unresolved {sender.unresolved_examples[-1:]}", file=sys.stderr)

    try:
        stats = await drive(year.stream(), sender, drained=pipeline.day_boundary, on_day=progress)
    finally:
        await sender.stop()
        await client.aclose()
    mark = time.monotonic()
    await pipeline.drained()
    timings["drive"] = stats.seconds
    timings["final_drain"] = time.monotonic() - mark

    report, digest = await pipeline.report()
    detections = await detections_by_week(pipeline, year.start, days)
    worklist = await whole_worklist(pipeline)
    ledger = await pipeline.ledger()
    directory = sender.directory.person_by_event
    person_of_ref = {ref: directory[event_id] for ref, event_id in registration_event_ids(year.scripts).items()
                     if event_id in directory}
    return YearRun(year, truth, report, digest, detections, worklist, ledger, list(sender.rejected),
                   sender.unresolved, list(sender.unresolved_examples), person_of_ref, stats.events, timings)
