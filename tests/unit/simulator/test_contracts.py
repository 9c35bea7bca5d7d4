"""Every generated event follows its contract, as partners must; the stream has the shape the driver needs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from contracts.events import PARTNER_TYPES, parse_event
from contracts.people import NIR_PATTERN, carries_identity
from contracts.territory import load_territory
from simulator.people import nir_key
from simulator.year import SimulatedYear, simulate


def test_every_event_in_the_file_parses_and_round_trips(tmp_path: Path) -> None:
    events_path, _ = simulate("territory", people=400, seed=2).write(tmp_path)
    lines = events_path.read_bytes().splitlines()
    for line in lines:
        event = parse_event(line)
        assert event.to_json_bytes() == line
    assert len(lines) > 4000


def test_partner_events_come_from_structures_of_the_territory(territory_year: SimulatedYear) -> None:
    structures = {s.id for s in load_territory().structures}
    for day in territory_year.stream():
        for event in day.events:
            assert event.type in PARTNER_TYPES
            assert event.source in structures
            assert carries_identity(event) == event.type.endswith("person.registered")
            assert (event.time.date() - territory_year.start).days == day.index


def test_one_tick_per_day_before_the_events_of_that_day(territory_year: SimulatedYear) -> None:
    days = list(territory_year.stream())
    assert len(days) == 365
    for n, day in enumerate(days):
        assert day.day == territory_year.start + timedelta(days=n)
        assert day.tick.id == f"clock-{day.day.isoformat()}"


def test_identities_are_fake_but_well_formed_and_distinct(territory_year: SimulatedYear) -> None:
    import re

    nirs = [s.person.identity.nir for s in territory_year.scripts]
    assert len(set(nirs)) == len(nirs)
    for nir in nirs:
        assert re.match(NIR_PATTERN, nir)
        assert nir[-2:] == nir_key(nir[:13])
    assert all(s.person.identity.email.endswith("@example.org") for s in territory_year.scripts)


def test_truth_is_json_with_no_identity_but_the_nir(tmp_path: Path) -> None:
    _, truth_path = simulate("cite-emploi-angers", seed=4).write(tmp_path)
    truth = json.loads(truth_path.read_text())
    assert truth["people"] and all("nir" in p for p in truth["people"])
    assert "last_name" not in truth_path.read_text()
