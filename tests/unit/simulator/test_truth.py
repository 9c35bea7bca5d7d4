"""The ground truth agrees with the events it is computed from, checked here by other means."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from contracts.territory import load_territory
from simulator.presets import LOST_PLOTS
from simulator.year import SimulatedYear, simulate

TH = load_territory().followup
HOLDING = ("contact.recorded", "referral.accepted", "referral.first_appointment_held", "dispositif.entered",
           "job.started", "training.started")
TOUCHING = HOLDING + ("barrier.identified", "barrier.lifted", "dispositif.exited", "followup.checkin_done")


def _events_by_ref(year: SimulatedYear) -> dict[str, list[tuple[date, object]]]:
    return {s.partner_ref: [(year.start + timedelta(days=d), e) for d, e in s.events] for s in year.scripts}


def _signs(events, kinds, start: date, end: date) -> list:  # noqa: ANN001
    """Events of `kinds` on days in (start, end) that show someone holds the person (reached, for contacts).

    The detection is on the tick of its day, before that day's events: the end day itself does not count."""
    out = []
    for day, e in events:
        if start < day < end and e.type.removeprefix("fr.ariane.") in kinds:
            if getattr(e.data, "reached", True):
                out.append(e)
    return out


def check_truth(year: SimulatedYear, truth: dict) -> None:
    by_ref = _events_by_ref(year)
    plots = {p["partner_ref"]: p["plot"] for p in truth["people"]}
    end = date.fromisoformat(truth["end"])
    for row in truth["lost"]:
        since, detected = date.fromisoformat(row["since"]), date.fromisoformat(row["detected_on"])
        assert detected <= end
        assert plots[row["partner_ref"]] in LOST_PLOTS
        events = by_ref[row["partner_ref"]]
        if row["reason"] == "no_contact":
            assert (detected - since).days == TH.no_contact_days - TH.at_risk_after_days + TH.lost_after_days
            assert not _signs(events, TOUCHING, since, detected)
        else:
            # Nobody held the person for exactly lost_after_days when the loss is detected.
            assert (detected - since).days == TH.lost_after_days
            assert not _signs(events, HOLDING, since, detected)
            assert (date.fromisoformat(row["at_risk_on"]) - since).days == TH.at_risk_after_days
        if row["reengaged_on"]:
            # Found again at the earliest on the day of detection: that day's tick declares the loss before the
            # day's events, so a structure taking the person on that very day re-engages a lost person.
            assert date.fromisoformat(row["reengaged_on"]) >= detected
            assert _signs(events, HOLDING, detected - timedelta(days=1),
                          date.fromisoformat(row["reengaged_on"]) + timedelta(days=1))
    lost_refs = {r["partner_ref"] for r in truth["lost"]}
    for p in truth["people"]:
        if p["plot"] in ("stays", "job_lasting", "job_short_held", "training", "moved_away", "refused_support"):
            assert p["partner_ref"] not in lost_refs, p


def test_lost_people_are_exactly_where_nobody_holds_them(territory_year: SimulatedYear,
                                                         territory_truth: dict) -> None:
    check_truth(territory_year, territory_truth)
    assert territory_truth["report"]["lost_detections"] > 50


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), preset=st.sampled_from(["cite-emploi-angers", "par-emploi", "territory"]))
def test_truth_invariants_hold_for_any_seed(seed: int, preset: str) -> None:
    year = simulate(preset, people=150 if preset == "territory" else None, seed=seed)
    check_truth(year, year.truth())


def test_report_figures_recount_from_the_events(territory_year: SimulatedYear, territory_truth: dict) -> None:
    report = territory_truth["report"]
    events = [e for s in territory_year.scripts for _d, e in s.events]
    regs = Counter(e.data.structure_id for e in events if e.type.endswith("person.registered"))
    assert report["registrations_by_structure"] == dict(regs)
    assert report["people_registered"] == len(territory_year.scripts)
    exits = Counter((e.data.dispositif_id, str(e.data.exit_class)) for e in events
                    if e.type.endswith("dispositif.exited"))
    assert {(d, c): n for d, v in report["exits_by_dispositif"].items() for c, n in v.items()} == dict(exits)
    jobs = Counter(str(e.data.contract_type) for e in events if e.type.endswith("job.started"))
    assert report["jobs_started_by_contract"] == dict(jobs)
    assert sum(report["barriers_identified"].values()) == sum(len(s.person.barriers) for s in territory_year.scripts
                                                              if any(d < territory_year.days for d, _ in s.events))
    outcomes = report["referral_outcomes"]
    for kind in outcomes.values():
        assert kind["issued"] == sum(v for k, v in kind.items() if k != "issued")
    assert report["lost_detections"] == len(territory_truth["lost"])
    assert report["lost_at_end"] + report["reengaged"] == report["lost_detections"]


def test_a_shorter_year_only_keeps_what_happened_within_it() -> None:
    year = simulate("territory", people=200, seed=9, days=120)
    truth = year.truth()
    end = date.fromisoformat(truth["end"])
    assert end == year.start + timedelta(days=119)
    assert all(date.fromisoformat(r["detected_on"]) <= end for r in truth["lost"])
    assert all(d < 120 for s in year.scripts for d, _ in s.events)
    check_truth(year, truth)
