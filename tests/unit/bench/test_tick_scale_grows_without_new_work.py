"""The premise of bench_tick_scale.py: a store grown by copying its people holds that many more people, and a
tick finds exactly the people due it found before (the copies are due ten years on), for both services."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from bench.bench_tick_scale import feed, grow


def _count(store: Path, sql: str, *args: object) -> int:
    con = sqlite3.connect(store)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


DUE = {"followup": "SELECT count(*) FROM followup_person WHERE wake_on <= ?",
       "referral": "SELECT count(DISTINCT person_id) FROM referral_referral WHERE next_check_on <= ?"}
PEOPLE = {"followup": "SELECT count(*) FROM followup_person", "referral": "SELECT count(*) FROM referral_person"}


@pytest.mark.parametrize("service", ["followup", "referral"])
def test_a_grown_store_has_more_people_and_the_same_people_due(service: str, tmp_path: Path) -> None:
    base = tmp_path / "base.db"
    asyncio.run(feed(service, 60, 40, 5, base))
    grown = tmp_path / "grown.db"
    shutil.copyfile(base, grown)
    added = grow(grown, 4)
    day = date(2026, 3, 1).isoformat()  # a few weeks after the base's last day: its people are due
    people = _count(base, PEOPLE[service])
    assert people > 0 and added > 0
    assert _count(grown, PEOPLE[service]) == 4 * people
    assert _count(grown, DUE[service], day) == _count(base, DUE[service], day) > 0
