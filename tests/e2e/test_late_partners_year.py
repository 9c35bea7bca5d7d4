"""End to end with partners who record late: a territory year in which 15% of each person's events (after their
first week) are sent 1 to 10 days after the day they are dated, through the four services as processes on the
real broker, and every figure Ariane reports is still the truth of the story as it happened: the report's
figures, who is lost now on the coordinator's worklist, the detections week by week, the ledger.

ARIANE_E2E_LATE_PEOPLE overrides the number of people (default 200: about 4 minutes on SQLite on two idle
cores)."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import replace

import pytest

from local.pipeline import LocalPipeline
from simulator.driver import drive
from simulator.presets import get_preset
from simulator.senders import HttpSender
from simulator.year import simulate
from tests.e2e.figures import (compare, expected_figures, expected_lost, registration_event_ids, render, render_lost,
                               reported_figures, reported_lost)
from tests.e2e.territory_run import detections_by_week, whole_worklist

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

LATE_SHARE = 0.15
SEED = 12


async def test_a_year_recorded_late_reports_the_truth_of_the_days_things_happened(  # noqa: ANN001
        kafka_bootstrap, database_backend, database_url_factory, tmp_path) -> None:
    people = int(os.environ.get("ARIANE_E2E_LATE_PEOPLE", 200))
    database_url = await database_url_factory("late") if database_backend == "postgresql" else None
    pipeline = LocalPipeline(run_dir=tmp_path / "run", prefix=f"late-{uuid.uuid4().hex[:10]}.",
                             database_url=database_url)
    year = simulate(replace(get_preset("territory"), late_share=LATE_SHARE), people=people, seed=SEED)
    truth = year.truth()
    began = time.monotonic()
    try:
        await pipeline.start(bootstrap=kafka_bootstrap)
        sender = HttpSender(pipeline.url("intake"), pipeline.api_keys, pipeline.bootstrap, pipeline.prefix,
                            security=pipeline.kafka_security())
        await sender.start()
        try:
            await drive(year.stream(), sender, drained=pipeline.day_boundary)
        finally:
            await sender.stop()
        await pipeline.drained()
        report, _digest = await pipeline.report()
        detections = await detections_by_week(pipeline, year.start, year.days)
        worklist = await whole_worklist(pipeline)
        ledger = await pipeline.ledger()
    finally:
        await pipeline.stop()

    directory = sender.directory.person_by_event
    person_of_ref = {ref: directory[event_id] for ref, event_id in registration_event_ids(year.scripts).items()
                     if event_id in directory}
    mismatches = compare(expected_figures(truth), reported_figures(report, worklist, ledger, detections))
    lost_expected, lost_reported = expected_lost(truth, person_of_ref), reported_lost(worklist)
    print(f"\n[{database_backend}] {people} people, {truth['report']['late']} in "
          f"{time.monotonic() - began:.0f} s")
    print(render(mismatches))
    print(render_lost(lost_expected, lost_reported, {p: r for r, p in person_of_ref.items()}))

    assert truth["report"]["late"]["answers_dated_in_time_sent_after_the_deadline"] >= 1
    assert not sender.rejected, sender.rejected[:5]
    assert sender.unresolved == 0, sender.unresolved_examples[:5]
    assert not mismatches, render(mismatches)
    assert lost_reported == lost_expected
    assert ledger["balanced"] and ledger["registered"] == people, ledger
