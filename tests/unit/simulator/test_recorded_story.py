"""The ground truth is the story as scripted (simulator/recorded.py): checked here against the README's worked
example, against the simulator's second opinion (the events replayed through its copy of the holding rules,
truth.py), person by person and figure by figure, and for the readable differences the comparison prints."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings, strategies as st

from simulator.year import SimulatedYear, simulate
from tests.e2e.figures import (LOST_FIELDS, compare, expected_figures, lost_rows_by_person, render,
                               render_people)


def _final_by_person(truth: dict) -> dict[str, set[tuple[str, ...]]]:
    return {p["partner_ref"]: {(p["final"]["state"], str(p["final"]["lost"]), str(p["final"]["closed"]))}
            for p in truth["people"]}


def assert_story_and_replay_agree(year: SimulatedYear) -> None:
    story, replay = year.truth(), year.replayed_truth()
    lost = render_people(lost_rows_by_person(story["lost"]), lost_rows_by_person(replay["lost"]), LOST_FIELDS,
                         reported_as="replayed")
    assert story["lost"] == replay["lost"], lost
    final = render_people(_final_by_person(story), _final_by_person(replay), ("state", "lost", "closed"),
                          reported_as="replayed")
    assert _final_by_person(story) == _final_by_person(replay), final
    mismatches = compare(expected_figures(story), expected_figures(replay))
    assert not mismatches, render(mismatches)
    assert story["report"].get("late") == replay["report"].get("late")


def test_the_readme_worked_example_is_the_recorded_story() -> None:
    truth = simulate("cite-emploi-angers", seed=1).truth()
    rows = {r["person"]: r for r in truth["lost"]}
    p68 = rows["p00068"]  # leaves the Cité on 05-30 with no next step, nobody takes them up
    assert (p68["reason"], p68["since"], p68["at_risk_on"], p68["detected_on"], p68["structure_to_act"]) == (
        "exit_without_next_step", "2026-05-30", "2026-06-13", "2026-06-29", "aldev_cite_emploi")
    p31 = rows["p00031"]  # orientation due 01-31, never answered: expired 02-01, lost 30 days after the due date
    assert (p31["reason"], p31["since"], p31["detected_on"], p31["structure_to_act"]) == (
        "referral_expired", "2026-01-31", "2026-03-02", "aldev_cite_emploi")
    p61 = next(p for p in truth["people"] if p["person"] == "p00061")
    assert p61["final"]["state"] == "held" and not p61["final"]["lost"]
    assert truth["report"]["lost_detections"] == 22
    p11 = rows["p00011"]  # in the Cité, last reached on 04-08, then silent: at risk 90 days later, lost 16 after
    assert (p11["reason"], p11["since"], p11["at_risk_on"], p11["detected_on"], p11["structure_to_act"]) == (
        "no_contact", "2026-04-08", "2026-07-07", "2026-07-23", "aldev_cite_emploi")


def test_losses_are_the_thresholds_after_the_day_nobody_picked_the_person_up(territory_year: SimulatedYear) -> None:
    truth = territory_year.truth()
    th = territory_year.territory.followup
    days = {"no_contact": th.no_contact_days - th.at_risk_after_days + th.lost_after_days}
    for row in truth["lost"]:
        since, detected = date.fromisoformat(row["since"]), date.fromisoformat(row["detected_on"])
        assert detected - since == timedelta(days=days.get(row["reason"], th.lost_after_days)), row
    silent_in_a_dispositif = [s for s in territory_year.scripts if s.plot == "silent" and any(
        e.type.endswith("dispositif.entered") for _d, e in s.events)]
    assert silent_in_a_dispositif, "the year has people silent in a dispositif"
    working = [s for s in silent_in_a_dispositif if s.route in ("iae_regie", "iae_aci")]
    accompanied = [s for s in silent_in_a_dispositif if s not in working]
    assert working and accompanied, "the year has people silent in the IAE and in an accompaniment dispositif"
    assert not [s.partner_ref for s in working if s.told.losses], \
        "a person working for an SIAE is held by it: their silence is not a loss"
    assert all([loss.reason for loss in s.told.losses] == ["no_contact"] for s in accompanied), \
        "a person an accompaniment dispositif no longer reaches is lost by its silence"


def test_the_story_and_the_replayed_rules_agree_person_by_person(territory_year: SimulatedYear) -> None:
    assert_story_and_replay_agree(territory_year)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(seed=3, preset="cite-emploi-angers", late=0.15, days=365)  # no answer sent after its deadline: still a 0
@given(seed=st.integers(0, 10_000), preset=st.sampled_from(["cite-emploi-angers", "par-emploi", "territory"]),
       late=st.sampled_from([0.0, 0.15]), days=st.sampled_from([240, 365]))
def test_they_agree_for_any_seed(seed: int, preset: str, late: float, days: int) -> None:
    from dataclasses import replace

    from simulator.presets import get_preset

    year = simulate(replace(get_preset(preset), late_share=late), people=150 if preset == "territory" else None,
                    seed=seed, days=days)
    assert_story_and_replay_agree(year)


def test_a_difference_is_printed_by_person_day_and_field() -> None:
    expected = {"FT-2026-000012": {("referral_expired", "2026-03-04", "2026-04-03", "siae_atelier_chantier")},
                "ML-2026-000844": {("job_ended_unheld", "2026-11-14", "2026-12-14", "mission_locale_angevine")}}
    reported = {"FT-2026-000012": {("referral_expired", "2026-03-04", "2026-04-03", "coordination_territoriale")},
                "CD49-2026-000001": {("no_contact", "2026-04-14", "2026-07-29", "departement_49")}}
    printed = render_people(expected, reported, LOST_FIELDS)
    print(printed)
    assert printed.splitlines()[0].startswith("3 person(s) differ")
    text = " ".join(printed.split())  # the columns are padded to the longest file number
    assert "FT-2026-000012 expected: reason referral_expired, since 2026-03-04, detected on 2026-04-03, " \
           "to act siae_atelier_chantier" in text
    assert "reported: reason referral_expired, since 2026-03-04, detected on 2026-04-03, to act " \
           "coordination_territoriale <- to act" in text
    assert "ML-2026-000844 expected: reason job_ended_unheld" in text and "reported: nothing" in text
    assert "CD49-2026-000001 expected: nothing" in text
