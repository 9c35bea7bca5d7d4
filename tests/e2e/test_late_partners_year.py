"""End to end with partners as they behave: a territory year in which 15% of each person's events (after their
first week) are sent 1 to 10 days after the day they are dated, 5% are recorded late and overtaken by the
person's later events (an exit before its entry, a job's end before its start, an answer before its
prescription), and 8% of people are registered a second time by another structure with a close name and no
NIR (the same person, or for a third of them another person born the same day), each second file opening an
identity review the coordinator decides as the story says. Through the four services as processes on the real
broker, every figure Ariane reports is still the truth of the story as it happened: the report's figures, who
is lost now on the coordinator's worklist, the detections week by week, the ledger (merged files included),
the identity reviews person by person.

ARIANE_E2E_LATE_PEOPLE overrides the number of people (default 200: about 4 minutes on SQLite on two idle
cores). With 100 people (as CI runs it) the year holds 228 events sent late, 5 identity reviews (4 same person,
1 different people); on a shared machine at a load average of 15 to 40 it took 1009 s on SQLite and 891 s on
PostgreSQL."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import replace

import pytest

from local.pipeline import LocalPipeline
from simulator.coordinator import Coordinator
from simulator.driver import drive
from simulator.presets import get_preset
from simulator.senders import HttpSender
from simulator.year import simulate
from tests.e2e.figures import (REVIEW_FIELDS, compare, expected_figures, expected_lost, expected_reviews,
                               registration_event_ids, render, render_lost, render_people, reported_figures,
                               reported_lost, reported_reviews)
from tests.e2e.territory_run import detections_by_week, whole_worklist

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

LATE_SHARE = 0.15
OUT_OF_ORDER_SHARE = 0.05
NEAR_DUPLICATE_SHARE = 0.08
SEED = 12
PARTNERS = replace(get_preset("territory"), late_share=LATE_SHARE, out_of_order_share=OUT_OF_ORDER_SHARE,
                   near_duplicate_share=NEAR_DUPLICATE_SHARE)
REVIEW_STATUSES = ("pending", "same_person", "different_people")


async def identity_reviews(pipeline: LocalPipeline) -> dict[str, list[dict]]:
    """Intake's identity reviews by status, as the coordinator lists them."""
    assert pipeline.client is not None
    out = {}
    for status in REVIEW_STATUSES:
        answer = await pipeline.client.get(f"{pipeline.url('intake')}/v1/identity-reviews",
                                           headers=pipeline.coordinator_auth(), params={"status": status, "limit": 200})
        out[status] = answer.raise_for_status().json()["items"]
    return out


async def test_a_year_recorded_late_reports_the_truth_of_the_days_things_happened(  # noqa: ANN001
        kafka_bootstrap, database_backend, database_url_factory, tmp_path) -> None:
    people = int(os.environ.get("ARIANE_E2E_LATE_PEOPLE", 200))
    database_url = await database_url_factory("late") if database_backend == "postgresql" else None
    pipeline = LocalPipeline(run_dir=tmp_path / "run", prefix=f"late-{uuid.uuid4().hex[:10]}.",
                             database_url=database_url)
    year = simulate(PARTNERS, people=people, seed=SEED)
    truth = year.truth()
    began = time.monotonic()
    try:
        await pipeline.start(bootstrap=kafka_bootstrap)
        sender = HttpSender(pipeline.url("intake"), pipeline.api_keys, pipeline.bootstrap, pipeline.prefix,
                            security=pipeline.kafka_security())
        await sender.start()
        coordinator = Coordinator(pipeline.url("intake"), pipeline.coordinator_token, sender.directory,
                                  client=pipeline.client)
        try:
            await drive(year.stream(), sender, drained=pipeline.day_boundary, decide=coordinator.decide)
        finally:
            await sender.stop()
        await pipeline.drained()
        report, _digest = await pipeline.report()
        reviews = await identity_reviews(pipeline)
        detections = await detections_by_week(pipeline, year.start, year.days)
        worklist = await whole_worklist(pipeline)
        ledger = await pipeline.ledger()
    finally:
        await pipeline.stop()

    directory = sender.directory.person_by_event
    person_of_ref = {ref: directory[event_id] for ref, event_id in registration_event_ids(year.scripts).items()
                     if event_id in directory}
    ref_of_person = {p: r for r, p in person_of_ref.items()}
    mismatches = compare(expected_figures(truth), reported_figures(report, worklist, ledger, detections, reviews))
    lost_expected, lost_reported = expected_lost(truth, person_of_ref), reported_lost(worklist)
    reviews_expected, reviews_reported = expected_reviews(truth), reported_reviews(reviews, ref_of_person)
    print(f"\n[{database_backend}] {people} people, {truth['report']['late']}, identity reviews "
          f"{truth['report']['identity_reviews']}, in {time.monotonic() - began:.0f} s")
    print(render(mismatches))
    print(render_lost(lost_expected, lost_reported, ref_of_person))
    if reviews_expected != reviews_reported:
        print(render_people(reviews_expected, reviews_reported, REVIEW_FIELDS))

    assert truth["report"]["late"]["answers_dated_in_time_sent_after_the_deadline"] >= 1
    assert truth["report"]["identity_reviews"]["same_person"] >= 1
    assert truth["report"]["identity_reviews"]["different_people"] >= 1
    assert sent_out_of_order(year) >= 1
    assert not sender.rejected, sender.rejected[:5]
    assert sender.unresolved == 0, sender.unresolved_examples[:5]
    assert not coordinator.failed, coordinator.failed[:5]
    assert not mismatches, render(mismatches)
    assert lost_reported == lost_expected
    assert reviews_reported == reviews_expected
    assert ledger["balanced"], ledger


def sent_out_of_order(year) -> int:  # noqa: ANN001 - a SimulatedYear
    """Events sent after a later-dated event of the same person."""
    count = 0
    for script in year.scripts:
        sent = [script.arrival.get(e.id, day) for day, e in script.events]
        count += sum(1 for n, on in enumerate(sent) if any(later < on for later in sent[n + 1:]))
    return count
