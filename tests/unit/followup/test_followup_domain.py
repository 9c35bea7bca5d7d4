"""The pure followup core: parcours states, lost detection, check-ins, closures, the ledger."""

from __future__ import annotations

from datetime import timedelta

from builders import (START, accepted, contact, entered, exited, expired, issued, job_ended, job_started,
                      registered, tick)
from contracts.territory import load_territory
from services.followup.domain import PersonFile, Rules, State, decide, ledger_move, merge, status_of
from services.followup.domain.facts import fact_of
from services.followup.domain.decisions import add_months

RULES = Rules.of(load_territory())  # at risk after 14 days, lost after 30, no contact 90


def file_of(pid, *events):
    f = PersonFile(pid)
    for e in events:
        f = f.with_fact(fact_of(e))
    return f


def day(n):
    return START + timedelta(days=n)


class TestParcoursStates:
    def test_registered_then_referred_then_accompanied(self):
        f = file_of("p", registered("p", 0))
        assert status_of(f, day(0), RULES).state == State.AWAITING_ORIENTATION
        f = f.with_fact(fact_of(issued("p", 0, "r1")))
        assert status_of(f, day(1), RULES).state == State.REFERRED
        f = f.with_fact(fact_of(accepted("p", 3, "r1")))
        assert status_of(f, day(4), RULES).state == State.ACCOMPANIED

    def test_dispositif_and_employment_take_precedence_over_accompaniment(self):
        f = file_of("p", registered("p", 0), contact("p", 1, "plie_angers"), entered("p", 2, "iae_regie", "siae_regie_quartiers"))
        assert status_of(f, day(3), RULES).state == State.IN_DISPOSITIF
        f = f.with_fact(fact_of(job_started("p", 4, "j1")))
        assert status_of(f, day(5), RULES).state == State.IN_EMPLOYMENT


class TestLostDetection:
    def test_exit_without_next_step_is_at_risk_then_lost_with_the_operator_to_act(self):
        f = file_of("p", registered("p", 0), entered("p", 1, "iae_regie", "siae_regie_quartiers"),
                    exited("p", 10, "iae_regie", "siae_regie_quartiers"))
        assert status_of(f, day(23), RULES).state == State.BETWEEN_STEPS
        assert status_of(f, day(24), RULES).state == State.AT_RISK  # 10 + 14
        lost = status_of(f, day(40), RULES)  # 10 + 30
        assert (lost.state, lost.reason, lost.since, lost.structure_to_act) == (
            State.LOST, "exit_without_next_step", day(10), "siae_regie_quartiers")

    def test_expired_orientation_names_the_organisme_referent(self):
        f = file_of("p", registered("p", 0), issued("p", 0, "r1"), expired("p", 15, "r1"))
        s = status_of(f, day(45), RULES)
        assert (s.state, s.reason, s.structure_to_act) == (State.LOST, "referral_expired", "mission_locale_angevine")

    def test_reorientation_suspends_the_gap(self):
        f = file_of("p", registered("p", 0), issued("p", 0, "r1"), expired("p", 15, "r1"), issued("p", 20, "r2"))
        assert status_of(f, day(60), RULES).state == State.REFERRED

    def test_job_ended_with_nobody_holding(self):
        f = file_of("p", registered("p", 0), job_started("p", 1, "j1", "mission_emploi_trelaze"), job_ended("p", 50, "j1"))
        s = status_of(f, day(80), RULES)
        assert (s.state, s.reason, s.structure_to_act) == (State.LOST, "job_ended_unheld", "mission_emploi_trelaze")

    def test_no_contact_while_accompanied(self):
        f = file_of("p", registered("p", 0), issued("p", 0, "r1"), accepted("p", 2, "r1"))
        assert status_of(f, day(91), RULES).state == State.ACCOMPANIED
        assert status_of(f, day(92), RULES).state == State.AT_RISK  # 2 + 90
        assert status_of(f, day(108), RULES).reason == "no_contact"
        assert status_of(f, day(108), RULES).state == State.LOST  # 2 + 90 + (30 - 14)

    def test_same_instant_handover_opens_no_gap(self):
        f = file_of("p", entered("p", 1, "iae_regie", "siae_regie_quartiers"),
                    exited("p", 5, "iae_regie", "siae_regie_quartiers", minute=7),
                    entered("p", 5, "plie_parcours", "plie_angers", minute=7))
        assert status_of(f, day(60), RULES).state == State.IN_DISPOSITIF


class TestDecisions:
    def test_at_risk_before_lost_once_each_then_reengaged(self):
        f = file_of("p", registered("p", 0), entered("p", 1, "iae_regie", "siae_regie_quartiers"),
                    exited("p", 10, "iae_regie", "siae_regie_quartiers"))
        d = decide(f, day(40), tick(40), RULES)
        assert [e.short_type for e in d.events] == ["person.at_risk", "person.lost"]
        assert d.events[1].data.detected_on == day(40)
        again = decide(d.file, day(41), tick(41), RULES)
        assert [e.short_type for e in again.events] == []
        event = contact("p", 45, "plie_angers")
        back = decide(again.file.with_fact(fact_of(event)), day(45), event, RULES)
        assert [e.short_type for e in back.events] == ["person.reengaged"]
        assert back.events[0].data.by_structure == "plie_angers" and back.events[0].data.lost_since == day(10)
        assert back.reengaged_after_days == (("exit_without_next_step", "plie_angers", 35),)

    def test_emitted_ids_are_deterministic(self):
        f = file_of("p", exited("p", 10, "iae_regie", "siae_regie_quartiers"))
        a = decide(f, day(40), tick(40), RULES)
        b = decide(f, day(40), tick(40), RULES)
        assert [e.id for e in a.events] == [e.id for e in b.events]

    def test_checkins_after_an_exit_and_missed_checkin_counts_toward_at_risk(self):
        f = file_of("p", entered("p", 1, "cite_emploi_angers", "aldev_cite_emploi"),
                    exited("p", 10, "cite_emploi_angers", "aldev_cite_emploi"),
                    job_started("p", 11, "j1", "aldev_cite_emploi", contract="cdi"))
        d = decide(f, day(45), tick(45), RULES)
        dues = [e for e in d.events if e.short_type == "followup.checkin_due"]
        assert {(e.data.anchor, e.data.months_after) for e in dues} == {("exit", 1), ("job", 1)}
        s = status_of(d.file, day(11 + 31 + 15), RULES)
        assert (s.state, s.reason) == (State.AT_RISK, "checkin_missed")

    def test_lasting_employment_stays_followed_until_the_twelve_month_checkin(self):
        # A CDI from day 0: twelve months later the 12-month check-in is asked, and the case stays open for it.
        f = file_of("p", job_started("p", 0, "j1", "plie_angers", contract="cdi"))
        twelve_months = (add_months(day(0), 12) - day(0)).days
        d = decide(f, day(twelve_months), tick(twelve_months), RULES)
        assert d.status.state != State.CLOSED
        assert ("job", 12) in {(e.data.anchor, e.data.months_after) for e in d.events
                               if e.short_type == "followup.checkin_due"}
        # Never answered: the case closes as lasting employment when the check-in's grace has passed.
        grace_end = twelve_months + RULES.thresholds.checkin_grace_days
        d = decide(d.file, day(grace_end), tick(grace_end), RULES)
        assert d.status.state == State.CLOSED
        assert [e.data.reason for e in d.events if e.short_type == "case.closed"] == ["lasting_employment"]


def test_merge_keeps_every_fact_once():
    a = file_of("a", registered("a", 0), entered("a", 1, "iae_regie", "siae_regie_quartiers"))
    b = file_of("b", registered("b", 0, eid="a-reg"), job_started("b", 2, "j1"))
    assert len(merge(a, b).facts) == 3
    assert status_of(merge(a, b), day(3), RULES).state == State.IN_EMPLOYMENT


def test_ledger_move_keeps_the_sum():
    counts = ledger_move({}, None, "referred")
    counts = ledger_move(counts, "referred", "lost")
    assert counts == {"referred": 0, "lost": 1}
