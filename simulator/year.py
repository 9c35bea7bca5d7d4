"""A whole simulated year: every person's script merged into one day-ordered stream, and its ground truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.territory import Territory, load_territory

from simulator.presets import Preset, get_preset
from simulator.quotas import cohort_quotas
from simulator.scenario import build_script
from simulator.script import PersonScript
from simulator.recorded import recorded_truth
from simulator.truth import compute_truth

DEFAULT_START = date(2026, 1, 1)


@dataclass(frozen=True)
class ReviewDecision:
    """The coordinator decides the identity review between two registrations (their event ids), as the story
    wrote it (told.ToldReview): same_person or different_people. `partner_ref` names the second file."""

    registration: str
    other_registration: str
    decision: str
    partner_ref: str


@dataclass(frozen=True)
class SimDay:
    """One simulated day: the day's clock tick (midnight), then the partner events of the day, then the
    coordinator's decisions of the day (identity reviews)."""

    index: int
    day: date
    events: tuple[Envelope, ...]
    tick: DayStarted
    decisions: tuple[ReviewDecision, ...] = ()


@dataclass
class SimulatedYear:
    preset: Preset
    seed: int
    start: date
    days: int
    scripts: list[PersonScript]
    territory: Territory

    def stream(self) -> Iterator[SimDay]:
        """Day by day, each event on the day it is sent (its own day, or later when a partner records it late);
        within a day, people in order and each person's events in order."""
        per_day: list[list[Envelope]] = [[] for _ in range(self.days)]
        decisions: list[list[ReviewDecision]] = [[] for _ in range(self.days)]
        for script in self.scripts:
            for day, event in script.events:
                per_day[script.arrival.get(event.id, day)].append(event)
            for review in script.told.reviews:
                decisions[review.decided].append(ReviewDecision(review.registration, review.other_registration,
                                                                review.decision, review.partner_ref))
        for index, events in enumerate(per_day):
            day = self.start + timedelta(days=index)
            yield SimDay(index, day, tuple(events), DayStarted.for_day(day), tuple(decisions[index]))

    def event_count(self) -> int:
        return sum(len(s.events) for s in self.scripts) + self.days

    def truth(self) -> dict[str, Any]:
        """The ground truth: the stories as they were scripted (recorded.py), what the coordinator must see."""
        truth = recorded_truth(self.scripts, self.territory, self.start, self.days)
        return {"preset": self.preset.name, "seed": self.seed, "people": len(self.scripts),
                "territory": self.territory.id, **truth}

    def replayed_truth(self) -> dict[str, Any]:
        """A second opinion: the year's events replayed through the simulator's copy of the holding rules
        (truth.py, parcours.py). The tests check that it agrees with the stories, person by person."""
        truth = compute_truth(self.scripts, self.territory, self.start, self.days)
        return {"preset": self.preset.name, "seed": self.seed, "people": len(self.scripts),
                "territory": self.territory.id, **truth}

    def write(self, out: Path) -> tuple[Path, Path]:
        """events.jsonl (every event as sent, ticks included) and truth.json, byte-identical for a seed."""
        out.mkdir(parents=True, exist_ok=True)
        events_path, truth_path = out / "events.jsonl", out / "truth.json"
        with events_path.open("wb") as f:
            for sim_day in self.stream():
                for event in (sim_day.tick, *sim_day.events):
                    f.write(event.to_json_bytes() + b"\n")
        truth_path.write_text(json.dumps(self.truth(), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                              encoding="utf-8")
        return events_path, truth_path


def simulate(preset: str | Preset, *, people: int | None = None, seed: int = 1, days: int = 365,
             territory: Territory | None = None, start: date | None = None) -> SimulatedYear:
    """Generate the year (pure: no I/O besides reading the territory file)."""
    chosen = preset if isinstance(preset, Preset) else get_preset(preset)
    territory = territory or load_territory()
    start = start or territory.start_date or DEFAULT_START
    count = chosen.default_people if people is None else people
    if count < 0 or days < 1:
        raise ValueError("people must be >= 0 and days >= 1")
    quotas = cohort_quotas(seed, chosen, count, start)
    scripts: list[PersonScript] = []
    for i in range(count):
        script = build_script(seed, chosen, i, territory, start, days, quotas[i] if quotas else None)
        scripts += [script] if script.other is None else [script, script.other]  # the other person of duplicates.py
    return SimulatedYear(chosen, seed, start, days, scripts, territory)
