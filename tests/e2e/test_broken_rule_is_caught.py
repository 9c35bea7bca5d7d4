"""The end-to-end comparison can fail, and says why: the services run with a lost threshold one day longer
than the rule the ground truth was computed with, and the comparison names the lost figures that moved.

Same machinery as test_territory_year.py, at a small scale."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from local.pipeline import LocalPipeline
from tests.e2e.figures import compare, expected_figures, expected_lost, render, render_lost, reported_figures, \
    reported_lost
from tests.e2e.territory_run import run_year

# store_independent: that the comparison catches a broken rule does not depend on the store.
pytestmark = [pytest.mark.e2e, pytest.mark.store_independent, pytest.mark.timeout(900)]

PEOPLE = 150
SEED = 5


def territory_with_a_later_lost_threshold(directory: Path) -> Path:
    """A copy of the territory file whose followup declares people lost one day later."""
    raw = yaml.safe_load(DEFAULT_TERRITORY_FILE.read_text(encoding="utf-8"))
    raw["followup"]["lost_after_days"] += 1
    path = directory / "territory-lost-one-day-late.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


async def test_a_lost_threshold_off_by_one_day_is_caught(kafka_bootstrap, database_backend,  # noqa: ANN001
                                                         database_url_factory, tmp_path) -> None:
    broken = territory_with_a_later_lost_threshold(tmp_path)
    assert load_territory(broken).followup.lost_after_days == load_territory().followup.lost_after_days + 1
    database_url = await database_url_factory("e2e_broken") if database_backend == "postgresql" else None
    pipeline = LocalPipeline(run_dir=tmp_path / "run", prefix=f"e2e-broken-{uuid.uuid4().hex[:10]}.",
                             database_url=database_url, territory_file=broken)
    try:
        run = await run_year(pipeline, bootstrap=kafka_bootstrap, people=PEOPLE, seed=SEED,
                             truth_territory=DEFAULT_TERRITORY_FILE)
    finally:
        await pipeline.stop()

    reported = reported_figures(run.report, run.worklist, run.ledger, run.detections)
    mismatches = compare(expected_figures(run.truth), reported)
    table = render(mismatches)
    lost_expected, lost_reported = expected_lost(run.truth, run.person_of_ref), reported_lost(run.worklist)
    print(f"\n[{database_backend}] services with lost_after_days + 1, truth with the territory's rule:")
    print(table)
    print(render_lost(lost_expected, lost_reported, run.ref_of_person))

    # The run itself was sound (nothing rejected or unresolved): only the rule differs.
    assert not run.rejected and run.unresolved == 0, (run.rejected[:5], run.unresolved_examples[:5])
    assert mismatches, "a lost threshold one day off went unnoticed"
    moved = {m.figure for m in mismatches}
    assert any(name.startswith(("lost/", "lost_now/", "worklist/lost")) for name in moved), table
    for m in mismatches:  # each difference is in the table, with both values, readable
        assert m.figure in table and f"{m.difference:+d}" in table
    assert "expected (ground truth)" in table and "reported" in table
    # The threshold moved detections only: the figures that do not depend on it still agree.
    unaffected = [m for m in mismatches if m.figure.startswith(("exits/", "barriers/", "cohort/", "people/"))]
    assert not unaffected, render(unaffected)
