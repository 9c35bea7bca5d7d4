"""A short chaos run in the suite: a small territory for forty days through the services as processes (two
instances of referral and of followup), with a kill -9 of each service (two at a time), the broker killed and
restarted on its ports, and the broker paused; at the end every figure equals the ground truth, nothing was published twice, no
group lags, and every fault was recovered from. `make chaos` runs the full-size one (tests/chaos/chaos_year.py).

The run starts its own broker (the suite's is shared with other tests and must not be killed) and, on
PostgreSQL, its own cluster. ARIANE_CHAOS_STORE_FAULTS=1 adds the store fault (PostgreSQL restart, or a full
disk of reporting's SQLite store)."""

from __future__ import annotations

import os

import pytest

from local.chaos import BROKER_KILL, BROKER_PAUSE, KILL
from tests.chaos.chaos_year import run_chaos_year

pytestmark = [pytest.mark.chaos, pytest.mark.kafka, pytest.mark.timeout(600)]

PEOPLE, DAYS, SEED = 150, 40, 7
# Two instances of the two services that consume most; `make chaos` runs two of every service. Two more
# processes on a two-core CI machine would cost more time than they add here.
INSTANCES = {"intake": 1, "referral": 2, "followup": 2, "reporting": 1}


async def test_a_short_year_with_faults_reports_exactly_the_ground_truth(database_backend, tmp_path) -> None:  # noqa: ANN001
    result = await run_chaos_year(tmp_path, people=PEOPLE, days=DAYS, seed=SEED, database=database_backend,
                                  kills_per_service=1, kills_together=2, instances=INSTANCES,
                                  store_faults=os.environ.get("ARIANE_CHAOS_STORE_FAULTS") == "1")
    print("\n" + result.render())

    kinds = [(f.kind, f.target.split("#")[0]) for f in result.faults]
    assert {t for k, t in kinds if k == KILL} == {"intake", "referral", "followup", "reporting"}
    assert (BROKER_KILL, "broker") in kinds and (BROKER_PAUSE, "broker") in kinds
    assert all(f.back_at is not None for f in result.faults), "a fault was never recovered from"
    assert not result.mismatches, result.render()
    assert result.lost_reported == result.lost_expected, result.render()
    assert not any(result.duplicates.values()), result.duplicates
    assert not any(result.lags.values()), result.lags
    assert not result.dead_letters, result.dead_letters
    assert not result.rejected and result.unresolved == 0
    assert result.records[next(t for t in result.records if t.endswith("ariane.intake.v1"))] == result.events_sent
