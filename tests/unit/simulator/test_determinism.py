"""Same preset and seed: byte-identical events and truth; another seed: another year."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from simulator.year import simulate


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("preset", ["cite-emploi-angers", "par-emploi", "territory"])
def test_same_seed_gives_the_same_bytes(preset: str, tmp_path: Path) -> None:
    people = 120 if preset == "territory" else None
    a = simulate(preset, people=people, seed=7).write(tmp_path / "a")
    b = simulate(preset, people=people, seed=7).write(tmp_path / "b")
    assert [_digest(p) for p in a] == [_digest(p) for p in b]
    assert a[0].stat().st_size > 10_000


def test_another_seed_gives_another_year(tmp_path: Path) -> None:
    a = simulate("cite-emploi-angers", seed=1).write(tmp_path / "a")
    b = simulate("cite-emploi-angers", seed=2).write(tmp_path / "b")
    assert _digest(a[0]) != _digest(b[0])
    assert _digest(a[1]) != _digest(b[1])


def test_a_person_does_not_depend_on_how_many_others_there_are() -> None:
    small = simulate("territory", people=5, seed=3)
    large = simulate("territory", people=40, seed=3)
    for s, l in zip(small.scripts, large.scripts[:5]):
        assert [e.to_json_bytes() for _d, e in s.events] == [e.to_json_bytes() for _d, e in l.events]


def test_event_ids_are_unique_and_derived_from_seed_person_and_step() -> None:
    year = simulate("territory", people=300, seed=5)
    ids = [e.id for s in year.scripts for _d, e in s.events]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("s5te-p") for i in ids)
    other = {e.id for s in simulate("territory", people=300, seed=6).scripts for _d, e in s.events}
    assert not other & set(ids)
