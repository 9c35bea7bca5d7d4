"""The report's arithmetic on a story small enough to count by hand."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from contracts.barriers import BarrierIdentified, BarrierIdentifiedData, BarrierLifted, BarrierLiftedData
from contracts.followup import CaseClosed, CaseClosedData, PersonLost, PersonLostData, PersonReengaged, PersonReengagedData
from contracts.pathway import DispositifEntered, DispositifEnteredData, DispositifExited, DispositifExitedData
from contracts.people import (
    PersonIdentitiesMerged,
    PersonIdentitiesMergedData,
    PersonProfileUpdated,
    PersonProfileUpdatedData,
    PersonRegistered,
    PersonRegisteredData,
)
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcceptedData,
    ReferralFirstAppointmentHeld,
    ReferralFirstAppointmentHeldData,
    ReferralIssued,
    ReferralIssuedData,
)
from services.reporting.domain.calendar import Period, as_of_filter, end_of_day
from services.reporting.domain.delays import nearest_rank
from services.reporting.domain.digest import canonical_json, digest
from services.reporting.domain.projection import fold
from services.reporting.domain.report import build_report

PARIS = ZoneInfo("Europe/Paris")


def at(d: date, recorded: date | None = None) -> dict:
    return {"time": datetime.combine(d, time(10), tzinfo=PARIS),
            "recordedtime": datetime.combine(recorded or d, time(11), tzinfo=PARIS)}


def registered(pid: str, d: date, *, single_parent: bool, birth_year: int = 1990) -> PersonRegistered:
    return PersonRegistered(id=f"{pid}:reg", source="france_travail_angers_centre", subject=pid, **at(d),
                            data=PersonRegisteredData(structure_id="france_travail_angers_centre", registered_on=d,
                                                      birth_year=birth_year, commune_insee="49007", qpv_resident=True,
                                                      rqth=False, rsa=False, single_parent=single_parent,
                                                      education_level="3"))


def story() -> list:
    a, b = "p-a", "p-b"
    return [
        registered(a, date(2025, 1, 6), single_parent=True, birth_year=2002),
        registered(b, date(2025, 1, 10), single_parent=False),
        # A: referred on day 2 after registration, accepted 5 days later, first appointment 7 days after that.
        ReferralIssued(id="r1:i", source="ariane/referral", subject=a, **at(date(2025, 1, 8)),
                       data=ReferralIssuedData(referral_id="r1", kind="orientation",
                                               from_structure="france_travail_angers_centre",
                                               to_structure="mission_locale_angevine", reason="Moins de 26 ans",
                                               due_date=date(2025, 1, 23))),
        ReferralAccepted(id="r1:a", source="mission_locale_angevine", subject=a, **at(date(2025, 1, 13)),
                         data=ReferralAcceptedData(referral_id="r1", structure_id="mission_locale_angevine")),
        ReferralFirstAppointmentHeld(id="r1:f", source="mission_locale_angevine", subject=a, **at(date(2025, 1, 20)),
                                     data=ReferralFirstAppointmentHeldData(referral_id="r1",
                                                                           structure_id="mission_locale_angevine")),
        # The same referral seen again on the intake topic (a partner's copy): the same document, counted once.
        ReferralIssued(id="r1:i-copy", source="france_travail_angers_centre", subject=a, **at(date(2025, 1, 8)),
                       data=ReferralIssuedData(referral_id="r1", kind="orientation",
                                               from_structure="france_travail_angers_centre",
                                               to_structure="mission_locale_angevine", reason="Moins de 26 ans",
                                               due_date=date(2025, 1, 23))),
        BarrierIdentified(id="b1:i", source="mission_locale_angevine", subject=a, **at(date(2025, 1, 14)),
                          data=BarrierIdentifiedData(barrier_id="b1", kind="garde_enfant", impact="high",
                                                     structure_id="mission_locale_angevine")),
        DispositifEntered(id="d1:in", source="par_emploi", subject=a, **at(date(2025, 1, 15)),
                          data=DispositifEnteredData(dispositif_id="par_emploi_garde", structure_id="par_emploi")),
        BarrierLifted(id="b1:l", source="par_emploi", subject=a, **at(date(2025, 2, 1)),
                      data=BarrierLiftedData(barrier_id="b1", kind="garde_enfant", dispositif_id="par_emploi_garde",
                                             structure_id="par_emploi", childcare_solution="assistante_maternelle")),
        DispositifExited(id="d1:out", source="par_emploi", subject=a, **at(date(2025, 3, 3)),
                         data=DispositifExitedData(dispositif_id="par_emploi_garde", structure_id="par_emploi",
                                                   exit_class="emploi_durable")),
        # B is lost, then re-engaged; recorded late (after 2025-04-01).
        PersonLost(id="b:lost", source="ariane/followup", subject=b, **at(date(2025, 3, 1)),
                   data=PersonLostData(reason="no_contact", since=date(2025, 2, 1),
                                       structure_to_act="france_travail_angers_centre", detected_on=date(2025, 3, 1))),
        PersonReengaged(id="b:back", source="ariane/followup", subject=b, **at(date(2025, 3, 20), date(2025, 4, 2)),
                        data=PersonReengagedData(by_structure="plie_angers", lost_since=date(2025, 2, 1),
                                                 reengaged_on=date(2025, 3, 20))),
    ]


def test_delays_exits_barriers_and_dispositif_figures() -> None:
    report = build_report(fold(story()), Period(date(2025, 1, 1), date(2025, 3, 31)))
    delays = report["delays_days"]
    assert delays["registration_to_first_referral"] == {"count": 1, "d1": 2, "median": 2, "d9": 2}
    assert delays["referral_to_acceptance"]["median"] == 5
    assert delays["acceptance_to_first_appointment"]["median"] == 7
    assert report["flows"] == [{"from": "france_travail_angers_centre", "to": "mission_locale_angevine",
                                "issued": 1, "accepted": 1, "refused": 0, "expired": 0, "withdrawn": 0, "breached": 0, "appt": 1}]
    assert report["exits"] == [{"dispositif": "par_emploi_garde", "structure": "par_emploi",
                                "exit_class": "emploi_durable", "exits": 1}]
    assert {(b["kind"], b["dispositif"], b["identified"], b["lifted"]) for b in report["barriers"]} == {
        ("garde_enfant", "", 1, 0), ("garde_enfant", "par_emploi_garde", 0, 1)}
    assert report["dispositifs"] == [{"dispositif": "par_emploi_garde", "families_followed": 1, "single_parents": 1,
                                      "single_parent_permille": 1000, "solutions_found": 1,
                                      "childcare_temporary": 0, "childcare_permanent": 0,
                                      "childcare_assistante_maternelle": 1, "returns_to_job_or_training": 1}]
    assert report["lost_reengaged"] == {"lost": 1, "reengaged": 1, "lost_now": 0, "corrected": 0}
    cohorts = {(c["dimension"], c["value"]): c for c in report["cohorts"]}
    assert cohorts[("all", "all")]["persons"] == 2
    assert cohorts[("under_26", "yes")]["persons"] == 1  # A, born 2002, registered 2025
    assert cohorts[("single_parent", "yes")]["exit_emploi_durable"] == 1
    # A followed 2025-01-06 → 2025-03-31: 2 whole months; B 2025-01-10 → 2025-03-31: 2 whole months.
    assert cohorts[("all", "all")]["months_followed"] == 4


def test_as_of_ignores_events_recorded_after_the_date() -> None:
    keep = as_of_filter(end_of_day(date(2025, 4, 1)))
    report = build_report(fold(e for e in story() if keep(e)), Period(date(2025, 1, 1), date(2025, 3, 31)))
    assert report["lost_reengaged"] == {"lost": 1, "reengaged": 0, "lost_now": 1, "corrected": 0}
    assert digest(report) != digest(build_report(fold(story()), Period(date(2025, 1, 1), date(2025, 3, 31))))


def test_merged_identities_count_as_one_person() -> None:
    merge = PersonIdentitiesMerged(id="m1", source="ariane/intake", subject="p-a", **at(date(2025, 2, 1)),
                                   data=PersonIdentitiesMergedData(kept_person_id="p-a", merged_person_id="p-b",
                                                                   rule="same_nir"))
    report = build_report(fold([*story(), merge]))
    assert {(c["dimension"], c["value"]): c["persons"] for c in report["cohorts"]}[("all", "all")] == 1


def test_later_profile_update_wins_whatever_the_arrival_order() -> None:
    update = PersonProfileUpdated(id="u1", source="mission_locale_angevine", subject="p-b", **at(date(2025, 2, 1)),
                                  data=PersonProfileUpdatedData(structure_id="mission_locale_angevine",
                                                                single_parent=True))
    for events in ([*story(), update], [update, *story()]):
        cohorts = {(c["dimension"], c["value"]): c["persons"] for c in build_report(fold(events))["cohorts"]}
        assert cohorts[("single_parent", "yes")] == 2


def _leaves(value):  # noqa: ANN001, ANN202
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def test_canonical_report_holds_no_floats_and_round_trips() -> None:
    report = build_report(fold(story()))
    assert not [v for v in _leaves(report) if isinstance(v, float)]
    text = canonical_json(report)
    assert text == canonical_json(json.loads(text))


def test_nearest_rank() -> None:
    assert nearest_rank([], 50) is None
    assert nearest_rank([5, 1, 3], 50) == 3
    assert nearest_rank(list(range(1, 11)), 10) == 1
    assert nearest_rank(list(range(1, 11)), 90) == 9


def test_without_clock_ticks_the_open_period_ends_on_the_latest_fact() -> None:
    # The story's last fact is B's re-engagement on 20 March.
    assert build_report(fold(story()))["period"] == {"start": None, "end": "2025-03-20"}


def test_every_person_is_in_exactly_one_state() -> None:
    from local.sample import sample_events

    state = fold(e for _, e in sample_events(people=60, seed=9))
    report = build_report(state)
    people = sum(1 for key in state if key.startswith("person:"))
    assert sum(row["persons"] for row in report["persons_by_state"]) == people


def test_a_period_after_the_exit_follows_nobody_in_the_dispositif() -> None:
    # A left Par'Emploi on 3 March: followed in Q1, not in April.
    state = fold(story())
    assert build_report(state, Period(date(2025, 1, 1), date(2025, 3, 31)))["dispositifs"][0]["families_followed"] == 1
    assert build_report(state, Period(date(2025, 4, 1), date(2025, 4, 30)))["dispositifs"] == []


def test_a_case_closed_before_the_period_is_not_in_its_cohorts() -> None:
    closed = CaseClosed(id="a:closed", source="ariane/followup", subject="p-a", **at(date(2025, 3, 10)),
                        data=CaseClosedData(reason="lasting_employment"))
    report = build_report(fold([*story(), closed]), Period(date(2025, 4, 1), date(2025, 4, 30)))
    assert {(c["dimension"], c["value"]): c["persons"] for c in report["cohorts"]}[("all", "all")] == 1


def test_an_exit_from_a_dispositif_never_entered_counts_once_its_entry_arrives() -> None:
    # Story 46: on 4 March the Régie sends an exit from its IAE for B, who never entered it (a wrong line of its
    # list). No figure counts it while the entry is missing; had the entry only been late, the exit counts from
    # the day the entry arrives, as in order.
    exit_b = DispositifExited(id="b:iae:out", source="siae_regie_quartiers", subject="p-b", **at(date(2025, 3, 4)),
                              data=DispositifExitedData(dispositif_id="iae_regie", structure_id="siae_regie_quartiers",
                                                        exit_class="emploi_transition"))
    entry_b = DispositifEntered(id="b:iae:in", source="siae_regie_quartiers", subject="p-b",
                                **at(date(2025, 2, 3), recorded=date(2025, 3, 20)),
                                data=DispositifEnteredData(dispositif_id="iae_regie",
                                                           structure_id="siae_regie_quartiers"))
    quarter = Period(date(2025, 1, 1), date(2025, 3, 31))
    par_emploi = {"dispositif": "par_emploi_garde", "structure": "par_emploi", "exit_class": "emploi_durable",
                  "exits": 1}
    alone = build_report(fold([*story(), exit_b]), quarter)
    assert alone["exits"] == [par_emploi]
    assert {(c["dimension"], c["value"]): c["exit_emploi_transition"] for c in alone["cohorts"]}[("all", "all")] == 0
    entered_late = build_report(fold([*story(), exit_b, entry_b]), quarter)
    assert entered_late["exits"] == [
        {"dispositif": "iae_regie", "structure": "siae_regie_quartiers", "exit_class": "emploi_transition",
         "exits": 1}, par_emploi]
    assert {(c["dimension"], c["value"]): c["exit_emploi_transition"]
            for c in entered_late["cohorts"]}[("all", "all")] == 1
