"""End to end: a territory's year with a few thousand people through the four services as processes on the
real broker, and at the end every figure Ariane reports equals the simulator's ground truth, the people on
the worklist as lost are exactly the expected ones, the conservation ledger balances, and an auditor's
replay of the topics into a fresh store gives the live report's digest.

ARIANE_E2E_PEOPLE overrides the number of people. The default, 1000 (13 705 partner events), is the floor
the suite promises, not what fits a short run: on two cores the simulated year takes about 8 minutes on
SQLite (each day waits for intake, referral and followup to settle), so the test is given 15."""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
import time
import uuid

import pytest

from contracts.territory import load_territory
from local.pipeline import LocalPipeline
from services.reporting.app import CONSUMES
from services.reporting.store.replay import read_log, replay
from tests.e2e.figures import (compare, expected_figures, expected_lost, render, render_lost, reported_figures,
                               reported_lost)
from tests.e2e.territory_run import run_year

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

E2E_PEOPLE = 1000
SEED = 11


async def test_a_territory_year_reports_exactly_the_ground_truth(kafka_bootstrap, database_backend,  # noqa: ANN001
                                                                 database_url_factory, tmp_path) -> None:
    people = int(os.environ.get("ARIANE_E2E_PEOPLE", E2E_PEOPLE))
    # SQLite: one file per service in the run directory; PostgreSQL: one fresh database shared by the four
    # services (their tables are prefixed by service name).
    database_url = await database_url_factory("e2e") if database_backend == "postgresql" else None
    pipeline = LocalPipeline(run_dir=tmp_path / "run", prefix=f"e2e-{uuid.uuid4().hex[:10]}.",
                             database_url=database_url)
    began = time.monotonic()
    try:
        run = await run_year(pipeline, bootstrap=kafka_bootstrap, people=people, seed=SEED)
        printed_csv = await asyncio.to_thread(worklist_command, pipeline, "csv")
        printed_table = await asyncio.to_thread(worklist_command, pipeline, "table")
        mark = time.monotonic()
        territory = load_territory(pipeline.territory_file).id
        replayed = await replay(read_log(kafka_bootstrap, [pipeline.prefix + t for t in CONSUMES]),
                                database_url=await database_url_factory("replay"), territory=territory)
        run.timings["replay"] = time.monotonic() - mark
    finally:
        await pipeline.stop()
    run.timings["total"] = time.monotonic() - began

    reported = reported_figures(run.report, run.worklist, run.ledger, run.detections)
    mismatches = compare(expected_figures(run.truth), reported)
    lost_expected = expected_lost(run.truth, run.person_of_ref)
    lost_reported = reported_lost(run.worklist)
    print(f"\n[{database_backend}] {people} people, {run.events_sent} partner events over "
          f"{run.truth['days']} days; " + ", ".join(f"{k} {v:.1f} s" for k, v in run.timings.items()))
    print(render(mismatches))
    print(render_lost(lost_expected, lost_reported, run.ref_of_person))
    print(f"ledger: {run.ledger}")
    print(f"digest live {run.digest}, replay {replayed.digest} ({replayed.records} records)")

    assert not run.rejected, f"intake rejected {len(run.rejected)} events, e.g. {run.rejected[:5]}"
    assert run.unresolved == 0, f"{run.unresolved} events unresolved, e.g. {run.unresolved_examples[:5]}"
    assert len(run.person_of_ref) == run.truth["report"]["people_registered"], "registrations without a person_id"
    assert not mismatches, render(mismatches)
    assert lost_reported == lost_expected, render_lost(lost_expected, lost_reported, run.ref_of_person)
    assert len(lost_expected) > 0, "a year with nobody lost proves nothing about detection"
    assert run.ledger["balanced"], run.ledger
    assert run.ledger["registered"] == run.truth["report"]["people_registered"] == people, run.ledger
    assert sum(run.ledger["counts"].values()) == run.ledger["registered"] - run.ledger["merged"], run.ledger
    assert replayed.digest == run.digest, (replayed.digest, run.digest)

    # The coordinator's `ariane worklist`, piped: the same lines as the API, and a table that is never cut.
    def key(line):
        return line["person_id"], line["kind"], line["structure_id"], line["answer_id"] or ""

    rows = list(csv.DictReader(printed_csv.splitlines()))
    assert sorted(map(key, rows)) == sorted(map(key, run.worklist))
    table_lines = printed_table.splitlines()
    assert len(table_lines) == len(run.worklist) + 2 and "…" not in printed_table, printed_table[:2000]
    assert all(line["expected"] in printed_table for line in run.worklist)


def worklist_command(pipeline: LocalPipeline, output: str) -> str:
    """`ariane worklist --format <output>` as the coordinator runs it, its output piped."""
    env = {**os.environ, "ARIANE_TOKEN": pipeline.coordinator_token, "ARIANE_FOLLOWUP_URL": pipeline.url("followup")}
    done = subprocess.run([sys.executable, "-m", "cli.main", "worklist", "--format", output], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
