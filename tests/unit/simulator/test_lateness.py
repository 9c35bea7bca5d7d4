"""Partners who record late: the preset's knob sends a share of events days after the day they are dated, each
person's events still in their own order, and the story (and so the truth of who is lost) stays the same."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings, strategies as st

from simulator.presets import PRESETS, get_preset
from simulator.year import SimulatedYear, simulate


def _late(share: float, seed: int, people: int = 80, days: int = 365) -> SimulatedYear:
    return simulate(replace(get_preset("territory"), late_share=share), people=people, seed=seed, days=days)


def test_no_preset_records_late_unless_asked() -> None:
    assert all(p.late_share == 0 for p in PRESETS.values())
    year = simulate("territory", people=50, seed=2)
    assert all(not s.arrival for s in year.scripts)
    assert "late" not in year.truth()["report"]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), share=st.sampled_from([0.05, 0.15, 0.4]))
def test_late_events_arrive_within_the_year_in_each_persons_order(seed: int, share: float) -> None:
    year = _late(share, seed, days=200)
    max_days = year.preset.late_max_days
    late = 0
    for script in year.scripts:
        sent = [script.arrival.get(e.id, day) for day, e in script.events]
        assert sent == sorted(sent), script.partner_ref  # never out of the person's order
        for (day, event), on in zip(script.events, sent):
            assert day <= on <= min(day + max_days, year.days - 1)
            late += on > day
        first_week = [n for n, (_d, e) in enumerate(script.events)
                      if e.type.endswith(("person.registered", "barrier.identified"))]
        assert all(script.events[n][0] == sent[n] for n in range(max(first_week, default=-1) + 1))
    assert late > 0
    streamed = [e.id for day in year.stream() for e in day.events]
    assert sorted(streamed) == sorted(e.id for s in year.scripts for _d, e in s.events)


def test_the_story_and_its_truth_do_not_depend_on_when_it_is_recorded() -> None:
    on_time, late = simulate("territory", people=150, seed=4).truth(), _late(0.2, 4, people=150).truth()
    assert late["report"].pop("late")["events_sent_late"] > 100
    assert late == on_time


def test_answers_dated_before_the_deadline_and_sent_after_it_are_announced_expired() -> None:
    truth = _late(0.3, 5, people=300).truth()
    late, outcomes = truth["report"]["late"], truth["report"]["referral_outcomes"]
    dated_late = sum(o.get("expired", 0) + o.get("accepted_late", 0) for o in outcomes.values())
    assert late["answers_dated_in_time_sent_after_the_deadline"] > 0
    assert late["expiries_announced"] == dated_late + late["answers_dated_in_time_sent_after_the_deadline"]
