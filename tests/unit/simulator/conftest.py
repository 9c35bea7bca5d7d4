from __future__ import annotations

import pytest

from simulator.year import SimulatedYear, simulate


@pytest.fixture(scope="module")
def territory_year() -> SimulatedYear:
    return simulate("territory", people=1500, seed=11)


@pytest.fixture(scope="module")
def territory_truth(territory_year: SimulatedYear) -> dict:
    return territory_year.truth()
