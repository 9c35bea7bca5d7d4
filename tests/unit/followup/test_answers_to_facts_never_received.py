"""Answers to a stay, a job or a check-in followup never received, and referrals answered by an entry.

Written from what partners and the coordinator must see (tests/stories/42, 43, 44 and 46): the Régie's exit from
an IAE the person never entered, or France Travail's answer to a check-in Ariane never issued, change nothing
while they wait 30 days for the fact they answer, then are reported to their sender (unknown_stay,
unknown_checkin; unknown_job for the end of a job never started); an exit whose entry comes within the wait
reads in business order; and the PLIE, which holds the person already, is not reminded to answer its referral.
"""

from __future__ import annotations

from datetime import timedelta

from builders import (START, contact, entered, exited, issued, job_ended, job_started, registered, tick)
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.followup import CheckinDone, CheckinDoneData
from contracts.territory import load_territory
from services.followup.domain import PersonFile, Rules, State, decide, status_of, timeline, worklist_lines
from services.followup.domain.answers import received
from services.followup.domain.facts import fact_of
from services.followup.domain.unknown_facts import DROPPED, KEPT, keep, may_wait

RULES = Rules.of(load_territory(), answer_wait_days=30, fact_wait_days=30)
PLIE, FT, REGIE, ALDEV = "plie_angers", "france_travail_angers_centre", "siae_regie_quartiers", "aldev_cite_emploi"


def day(n: int):
    return START + timedelta(days=n)


def checkin_done(pid: str, n: int, checkin_id: str, structure: str = FT, reached: bool = True):
    return CheckinDone(id=f"{pid}-{checkin_id}-done", source=structure, subject=pid,
                       time=day(n).isoformat() + "T10:00:00+01:00",
                       data=CheckinDoneData(checkin_id=checkin_id, structure_id=structure, reached=reached,
                                            situation="in_dispositif" if reached else None))


class Person:
    """One person's file as followup keeps it: each event arrives on a day of followup's clock (the tick of that
    day first), and the days between are ticked, as the handlers do. What was reported is collected."""

    def __init__(self, pid: str = "p") -> None:
        self.file, self.today, self.reported, self.emitted = PersonFile(pid), None, [], []

    def tick_until(self, n: int) -> None:
        first = 0 if self.today is None else (self.today - START).days + 1
        for d in range(first, n + 1):
            self.today = day(d)
            self._decide(tick(d))

    def arrives(self, n: int, event) -> None:
        self.tick_until(n)
        fact = received(fact_of(event), self.today)
        if may_wait(fact, self.file.facts, self.file.emitted.checkins):
            fact = keep(fact, {"topic": "ariane.intake.v1", "partition": 0, "offset": 7, "sender": event.source,
                               "original": event.to_json_bytes().decode()})
        self.file = self.file.with_fact(fact)
        self._decide(event)

    def _decide(self, cause) -> None:
        decision = decide(self.file, self.today, cause, RULES)
        self.file = decision.file
        self.reported += [(self.today, d.code, d.reason) for d in decision.dropped]
        self.emitted += [e.type.removeprefix("fr.ariane.") for e in decision.events]

    def status(self, n: int | None = None):
        return status_of(self.file, self.today if n is None else day(n), RULES)


class TestAnExitFromAStayNeverEntered:
    def in_the_plie(self) -> Person:
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(7, entered("p", 7, "plie_parcours", PLIE))
        return p

    def test_it_changes_nothing_while_it_waits_then_the_regie_is_told(self):
        p = self.in_the_plie()
        p.arrives(28, exited("p", 28, "iae_regie", REGIE))
        p.tick_until(59)  # waits from day 29, the first day after it arrived, for 30 days: until day 59
        assert (p.status().state, p.status().holders) == (State.IN_DISPOSITIF, (PLIE,))
        assert p.reported == []
        p.tick_until(60)
        [(on, code, reason)] = p.reported
        assert (on, code) == (day(60), "unknown_stay")
        assert "p-iae_regie-28-out" in reason and "iae_regie" in reason and REGIE in reason
        assert f"until {day(59).isoformat()}" in reason and "30 days" in reason
        p.tick_until(95)  # the PLIE's last contact was its entry, day 7: not yet silent for 90 days
        assert len(p.reported) == 1  # once
        assert (p.status().state, p.status().holders) == (State.IN_DISPOSITIF, (PLIE,))
        assert not any(e.startswith("followup.checkin_due") for e in p.emitted)  # no check-in after a stay never had
        assert [f for f in p.file.facts if KEPT in f.info] == []  # the record is not kept once reported
        assert [f.info[DROPPED] for f in p.file.facts if DROPPED in f.info] == [day(60).isoformat()]

    def test_an_entry_arriving_within_the_wait_reads_in_business_order(self):
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(28, exited("p", 28, "iae_regie", REGIE))
        assert p.status().state == State.AWAITING_ORIENTATION  # an exit from a stay not known yet: as before
        p.arrives(45, entered("p", 5, "iae_regie", REGIE))
        s = p.status()
        assert (s.state, s.reason, s.since) == (State.AT_RISK, "exit_without_next_step", day(28))
        p.tick_until(120)
        assert p.reported == []
        assert [f for f in p.file.facts if KEPT in f.info] == []

    def test_an_entry_arriving_after_the_wait_leaves_the_exit_dropped(self):
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(28, exited("p", 28, "iae_regie", REGIE))
        p.arrives(61, entered("p", 5, "iae_regie", REGIE))
        assert [code for _d, code, _r in p.reported] == ["unknown_stay"]
        assert (p.status().state, p.status().holders) == (State.IN_DISPOSITIF, (REGIE,))

    def test_an_exit_in_order_keeps_no_record(self):
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(5, entered("p", 5, "iae_regie", REGIE))
        p.arrives(28, exited("p", 28, "iae_regie", REGIE))
        assert [f for f in p.file.facts if KEPT in f.info] == []
        assert p.status().reason == "exit_without_next_step"


class TestTheEndOfAJobNeverStarted:
    def test_it_waits_then_is_reported_as_unknown_job(self):
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(20, job_ended("p", 20, "job-x"))
        p.tick_until(51)
        assert p.reported == [] and p.status().state == State.AWAITING_ORIENTATION
        p.tick_until(52)
        assert [(on, code) for on, code, _r in p.reported] == [(day(52), "unknown_job")]
        assert "job-x" in p.reported[0][2]
        assert p.status().state == State.AWAITING_ORIENTATION

    def test_its_start_arriving_late_reads_in_business_order(self):
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(20, job_ended("p", 20, "job-x"))
        p.arrives(23, job_started("p", 10, "job-x"))
        s = p.status()
        assert (s.state, s.reason, s.since) == (State.BETWEEN_STEPS, "job_ended_unheld", day(20))
        p.tick_until(200)
        assert p.reported == []


class TestACheckinAnswerWithAMistypedId:
    def test_it_breaks_no_silence_and_is_reported_as_unknown_checkin(self):
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(5, entered("p", 5, "cite_emploi_angers", ALDEV))
        p.arrives(10, contact("p", 10, ALDEV))
        p.arrives(80, checkin_done("p", 80, "chk-typo"))
        p.tick_until(100)  # 90 days after the Cité's last contact: the answer reached nobody Ariane knows of
        assert (p.status().state, p.status().reason) == (State.AT_RISK, "no_contact")
        assert p.reported == []
        p.tick_until(112)  # received on day 80: waits until day 111
        [(on, code, reason)] = p.reported
        assert (on, code) == (day(112), "unknown_checkin")
        assert "chk-typo" in reason and FT in reason

    def test_an_answer_to_a_checkin_ariane_issued_counts_as_ever(self):
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(10, job_started("p", 10, "job-1"))
        p.tick_until(41)  # a month after the job's start
        [due] = p.status().checkins_due
        p.arrives(45, checkin_done("p", 45, due.id))
        assert p.status().checkins_due == ()
        assert [f for f in p.file.facts if KEPT in f.info] == []
        p.tick_until(200)
        assert p.reported == []


class TestAReferralAnsweredByAnEntry:
    def test_the_plie_holding_the_person_is_not_reminded_to_answer(self):
        # Prescribed to the PLIE on day 2 (due day 17); the PLIE's entry on day 9 comes before its acceptance.
        with_entry = Person()
        with_entry.arrives(0, registered("p", 0))
        with_entry.arrives(2, issued("p", 2, "rx", to=PLIE, kind="prescription"))
        with_entry.arrives(9, entered("p", 9, "plie_parcours", PLIE))
        status = with_entry.status(14)
        assert status.state == State.IN_DISPOSITIF
        assert worklist_lines("p", status, day(14), RULES) == []

    def test_without_the_entry_the_plie_is_reminded(self):
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(2, issued("p", 2, "rx", to=PLIE, kind="prescription"))
        [line] = worklist_lines("p", p.status(14), day(14), RULES)
        assert (line.structure_id, line.kind, line.answer_id) == (PLIE, "referral_expiring", "rx")

    def test_another_structure_with_a_referral_pending_is_still_reminded(self):
        p = Person()
        p.arrives(0, registered("p", 0))
        p.arrives(2, issued("p", 2, "rx", to="mission_locale_angevine", kind="prescription"))
        p.arrives(9, entered("p", 9, "plie_parcours", PLIE))
        [line] = worklist_lines("p", p.status(14), day(14), RULES)
        assert (line.structure_id, line.kind) == ("mission_locale_angevine", "referral_expiring")


STORIES = {
    "nothing": [],
    "plie": [(7, entered("p", 7, "plie_parcours", PLIE))],
    "iae_then_exit": [(5, entered("p", 5, "iae_atelier", "siae_atelier_chantier")),
                      (40, exited("p", 40, "iae_atelier", "siae_atelier_chantier"))],
    "job": [(12, job_started("p", 12, "job-real"))],
}
ORPHANS = {
    "exit": lambda n: exited("p", n, "iae_regie", REGIE),
    "job_end": lambda n: job_ended("p", n, "job-never"),
    "checkin": lambda n: checkin_done("p", n, "chk-never-issued"),
}


@settings(max_examples=30, deadline=None)
@given(story=st.sampled_from(sorted(STORIES)), orphan=st.sampled_from(sorted(ORPHANS)), on=st.integers(1, 90),
       today=st.integers(91, 160))
def test_an_answer_to_a_fact_never_received_changes_nothing(story, orphan, on, today):
    """Whatever the person's story, an answer to a stay, job or check-in never received leaves their state, holders,
    check-ins and every event emitted for them as in the story without it; it is reported once, on the first day
    after its wait (30 days from the day after it arrived)."""
    def live(with_orphan: bool) -> Person:
        p = Person()
        p.arrives(0, registered("p", 0))
        lines = sorted(STORIES[story] + ([(on, ORPHANS[orphan](on))] if with_orphan else []), key=lambda x: x[0])
        for n, event in lines:
            p.arrives(n, event)
        p.tick_until(today)
        return p

    with_it, without = live(True), live(False)
    a, b = with_it.status(), without.status()
    assert (a.state, a.holders, a.reason, a.since, a.checkins_due) == (b.state, b.holders, b.reason, b.since,
                                                                    b.checkins_due)
    assert with_it.emitted == without.emitted
    reported_on = on + 1 + 30 + 1
    code = {"exit": "unknown_stay", "job_end": "unknown_job", "checkin": "unknown_checkin"}[orphan]
    assert [(on_, c) for on_, c, _r in with_it.reported] == ([(day(reported_on), code)] if today >= reported_on
                                                             else [])


def test_an_erased_persons_waiting_answer_keeps_no_bytes_and_is_still_reported():
    from services.followup.domain.erasure import forget_person
    p = Person()
    p.arrives(0, registered("p", 0))
    p.arrives(20, job_ended("p", 20, "job-x"))
    p.file = forget_person(p.file)
    [waiting] = [f for f in p.file.facts if KEPT in f.info]
    assert "original" not in waiting.info[KEPT] and waiting.info[KEPT]["offset"] == 7
    p.tick_until(52)
    assert [code for _d, code, _r in p.reported] == ["unknown_job"]


def test_the_timeline_says_an_answer_waits_then_that_it_never_counted():
    # The Régie's exit from an IAE the person never entered: a counsellor reading the person's history sees it
    # waiting, then, once the Régie was told, that it was not taken into account, and why.
    p = TestAnExitFromAStayNeverEntered().in_the_plie()
    p.arrives(28, exited("p", 28, "iae_regie", REGIE))

    def exit_entry(n: int):
        [entry] = [e for e in timeline(p.file, p.status(), RULES, day(n)) if e.kind == "dispositif_exited"]
        return entry

    p.tick_until(40)
    assert "en attente" in exit_entry(40).label and "l'entrée dans ce dispositif" in exit_entry(40).label
    p.tick_until(60)
    label = exit_entry(60).label
    assert "non pris en compte" in label and REGIE in label and day(60).strftime("%d/%m/%Y") in label
    assert "en attente" not in label


def test_an_exit_in_order_reads_as_an_ordinary_exit_on_the_timeline():
    p = Person()
    p.arrives(0, registered("p", 0))
    p.arrives(5, entered("p", 5, "iae_regie", REGIE))
    p.arrives(28, exited("p", 28, "iae_regie", REGIE))
    [entry] = [e for e in timeline(p.file, p.status(), RULES, day(28)) if e.kind == "dispositif_exited"]
    assert "en attente" not in entry.label and "non pris en compte" not in entry.label
