"""The presets have the shape the seeds describe."""

from __future__ import annotations

from collections import Counter

from contracts.vocabulary import BarrierKind, ContractType, ExitClass
from simulator.presets import PLOTS
from simulator.year import SimulatedYear, simulate


def test_cite_emploi_is_90_residents_of_the_quartiers_routed_to_the_cite() -> None:
    year = simulate("cite-emploi-angers", seed=1)
    assert len(year.scripts) == 90
    assert all(s.person.qpv_resident for s in year.scripts)
    assert all(s.route == "cite_emploi_angers" for s in year.scripts)
    truth = year.truth()
    entered = truth["report"]["dispositif_entries"].get("cite_emploi_angers", 0)
    assert 70 <= entered <= 90


def test_cite_emploi_follows_people_a_year_after_they_leave_for_a_job() -> None:
    year = simulate("cite-emploi-angers", seed=1)
    months = Counter(e.data.checkin_id.split("-")[4] for s in year.scripts for _d, e in s.events
                     if e.type.endswith("checkin_done") and "-exit-" in e.data.checkin_id)
    assert set(months) >= {"1", "3", "6"}  # 12 months only for the earliest exits within the year


def test_par_emploi_is_about_63_families_mostly_single_parents_with_childcare_barriers() -> None:
    year = simulate("par-emploi", seed=1)
    people = [s.person for s in year.scripts]
    assert len(people) == 63
    share = sum(p.single_parent for p in people) / len(people)
    assert 0.62 <= share <= 0.9
    assert all(BarrierKind.GARDE_ENFANT in p.barriers for p in people)
    returns = sum(1 for s in year.scripts if any(e.type.endswith(("job.started", "training.started"))
                                                 for _d, e in s.events))
    assert 9 <= returns <= 27  # ~17 in the seed


def test_territory_mix_matches_the_shares(territory_year: SimulatedYear) -> None:
    people = [s.person for s in territory_year.scripts]
    n = len(people)
    year = territory_year.start.year

    def share(pred) -> float:  # noqa: ANN001
        return sum(1 for p in people if pred(p)) / n

    assert abs(share(lambda p: p.age_in(year) <= 25) - 0.20) < 0.04
    assert abs(share(lambda p: p.rqth) - 0.08) < 0.03
    assert abs(share(lambda p: p.rsa) - 0.15) < 0.04
    assert abs(share(lambda p: p.qpv_resident) - 0.25) < 0.04
    assert abs(share(lambda p: p.single_parent) - 0.10) < 0.04


def test_territory_has_every_kind_of_story(territory_year: SimulatedYear, territory_truth: dict) -> None:
    report = territory_truth["report"]
    assert set(report["exits_by_class"]) == {c.value for c in ExitClass}
    assert set(report["jobs_started_by_contract"]) == {c.value for c in ContractType}
    assert {"accepted", "accepted_late", "refused", "expired"} <= set(report["referral_outcomes"]["orientation"])
    assert {"accepted", "accepted_late", "refused", "expired"} <= set(report["referral_outcomes"]["prescription"])
    assert set(report["lost_by_reason"]) >= {"exit_without_next_step", "job_ended_unheld", "no_contact",
                                             "referral_expired"}
    assert report["reengaged"] > 0 and report["cases_closed"] and report["contacts"]["reached"] > 0
    assert set(PLOTS) - {"exit_none"} <= {s.plot for s in territory_year.scripts}
    registrars = set(report["registrations_by_structure"])
    assert {"france_travail_angers_centre", "mission_locale_angevine", "cap_emploi_49", "departement_49"} <= registrars
