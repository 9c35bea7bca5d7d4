"""What a counsellor reads on a worklist line and on a person's timeline, from dated partner facts."""

from __future__ import annotations

from datetime import timedelta

from builders import START, accepted, contact, entered, exited, issued, job_started, registered
from hypothesis import given
from hypothesis import strategies as st

from contracts.territory import FollowupThresholds
from services.followup.domain import (PersonFile, Rules, State, file_numbers, involved_structures, status_of,
                                      timeline, worklist_lines)
from services.followup.domain.facts import fact_of

RULES = Rules(FollowupThresholds(), coordinator="coordination_territoriale", remind_days=3)
ML, FT, SIAE = "mission_locale_angevine", "france_travail_angers_centre", "siae_regie_quartiers"


def file_of(*events) -> PersonFile:
    return PersonFile("P", tuple(fact_of(e) for e in events))


def numbered(event, number):
    return event.model_copy(update={"data": event.data.model_copy(update={"partner_ref": number})})


def lines_on(file: PersonFile, day: int):
    today = START + timedelta(days=day)
    return worklist_lines("P", status_of(file, today, RULES), today, RULES, file_numbers(file.facts))


def test_a_structure_is_named_by_its_own_file_number_only():
    file = file_of(numbered(registered("P", 0), "FT-778"), numbered(registered("P", 0, "P-ml", ML), "ML-42"),
                   issued("P", 0, "ref-p", to=ML, due_in=15))
    [line] = lines_on(file, 12)
    assert (line.structure_id, line.kind, line.file_number, line.answer_id) == (ML, "referral_expiring", "ML-42",
                                                                                "ref-p")
    assert "20/01/2026" in line.expected  # the due date, as a counsellor writes dates
    assert lines_on(file, 11) == []  # more than remind_days before the due date: not yet


def test_no_file_number_when_the_acting_structure_gave_none():
    file = file_of(numbered(registered("P", 0), "FT-778"), issued("P", 0, "ref-p", to=ML, due_in=15))
    [line] = lines_on(file, 13)
    assert line.file_number is None  # France Travail's number is never shown on the Mission locale's line


def test_a_later_update_changes_the_file_number():
    update = numbered(registered("P", 3, "P-ml-2", ML), "ML-99")
    file = file_of(numbered(registered("P", 0, "P-ml", ML), "ML-42"), update)
    assert file_numbers(file.facts) == {ML: "ML-99"}


def test_a_lost_person_line_says_what_to_do():
    file = file_of(registered("P", 0), entered("P", 1, "iae_regie", SIAE), exited("P", 10, "iae_regie", SIAE))
    [line] = [x for x in lines_on(file, 45) if x.kind == "lost"]
    assert (line.structure_id, line.answer_id) == (SIAE, None)
    assert line.expected.startswith("Perdue de vue") and "suite" in line.expected


def test_a_checkin_line_carries_the_checkin_id_to_answer():
    file = file_of(registered("P", 0), job_started("P", 10, "job-1", structure=ML, contract="cdi"))
    [line] = lines_on(file, 41)  # 15 January + 1 month
    assert line.kind == "checkin_due" and line.answer_id.endswith("-job-1m") and line.structure_id == ML
    missed = {(x.kind, x.answer_id) for x in lines_on(file, 41 + 15)}
    assert ("checkin_missed", line.answer_id) in missed and ("at_risk", line.answer_id) in missed


def test_the_timeline_tells_the_story_in_order_with_its_rules():
    file = file_of(registered("P", 0), issued("P", 0, "ref-p", to=ML, due_in=15), accepted("P", 4, "ref-p"),
                   contact("P", 6, ML), job_started("P", 10, "job-1", structure=ML, contract="cdi"))
    today = START + timedelta(days=45)
    entries = timeline(file, status_of(file, today, RULES), RULES, today)
    assert [(e.day - START).days for e in entries] == sorted((e.day - START).days for e in entries)
    assert [e.kind for e in entries] == ["registered", "referral_issued", "referral_accepted", "contact",
                                         "job_started", "checkin_due"]
    assert all(e.label for e in entries)
    assert next(e for e in entries if e.kind == "job_started").rule == "suivis à 1, 3, 6, 12 mois"
    assert involved_structures(file, status_of(file, today, RULES)) == {FT, ML}


def test_the_timeline_shows_the_current_loss_and_who_must_act():
    file = file_of(registered("P", 0), entered("P", 1, "iae_regie", SIAE), exited("P", 10, "iae_regie", SIAE))
    today = START + timedelta(days=45)
    status = status_of(file, today, RULES)
    assert status.state == State.LOST
    alerts = [(e.kind, (e.day - START).days, e.structure_id) for e in timeline(file, status, RULES, today)
              if e.kind in ("at_risk", "lost")]
    assert alerts == [("at_risk", 10 + 14, SIAE), ("lost", 10 + 30, SIAE)]


@given(st.integers(0, 40), st.integers(0, 40))
def test_a_fact_dated_ahead_of_the_clock_wakes_the_person_on_its_day(today_n, fact_n):
    """Whatever the day, a person with a fact dated after today is looked at again no later than that day."""
    file = file_of(registered("P", 0), accepted("P", fact_n, "ref-x"))
    today = START + timedelta(days=today_n)
    status = status_of(file, today, RULES)
    if fact_n > today_n:
        assert status.wake_on is not None and status.wake_on <= START + timedelta(days=fact_n)


def test_a_pending_identity_review_replaces_the_alert_line_with_the_coordinators_decision():
    from services.followup.domain import PendingReview

    file = file_of(registered("P", 0), entered("P", 1, "iae_regie", SIAE), exited("P", 10, "iae_regie", SIAE))
    today = START + timedelta(days=45)
    review = PendingReview("rev-1", "Q", ("last_name", "birth_date"), ("nir",), START)
    lines = worklist_lines("P", status_of(file, today, RULES), today, RULES, {}, review)
    kinds = {(x.kind, x.structure_id, x.answer_id) for x in lines}
    assert ("identity_review", "coordination_territoriale", "rev-1") in kinds
    assert not {k for k in kinds if k[0] in ("lost", "at_risk")}
    line = next(x for x in lines if x.kind == "identity_review")
    assert "nom, date de naissance" in line.expected and "NIR" in line.expected and "Q" in line.expected
    decided = PendingReview("rev-1", "Q", ("last_name",), (), START, awaiting_merge=True)
    assert not {x.kind for x in worklist_lines("P", status_of(file, today, RULES), today, RULES, {}, decided)} & {
        "identity_review", "lost", "at_risk"}


@given(st.integers(0, 80), st.integers(1, 40))
def test_no_alert_is_emitted_for_an_id_under_review(today_n, exit_n):
    from contracts.clock import DayStarted

    from services.followup.domain import decide

    file = file_of(registered("P", 0), entered("P", 0, "iae_regie", SIAE), exited("P", exit_n, "iae_regie", SIAE))
    today = START + timedelta(days=today_n)
    decision = decide(file, today, DayStarted.for_day(today), RULES, under_review=True)
    assert not [e for e in decision.events if e.short_type in ("person.at_risk", "person.lost")]
    free = decide(file, today, DayStarted.for_day(today), RULES)
    if today_n >= exit_n + RULES.thresholds.lost_after_days:
        assert {e.short_type for e in free.events} >= {"person.at_risk", "person.lost"}  # the test can fail
