"""Answers that come before their referral: applied as if in order when it comes in time, reported and dropped
when it never comes, never changing a referral. The story: France Travail registers a 40-year-old (it is their
organisme référent, so no orientation referral) and prescribes the PLIE; the PLIE's answers may reach Ariane
before the prescription does."""

from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcceptedData,
    ReferralAcknowledged,
    ReferralAcknowledgedData,
    ReferralIssued,
    ReferralIssuedData,
    ReferralRefused,
    ReferralRefusedData,
)
from contracts.territory import load_territory
from services.referral.domain import waiting_answers
from services.referral.domain.lifecycle import Answer, PersonState, Status, decide
from services.referral.domain.waiting_answers import Outcome, Waiting, expire, moves, waits_until

TERRITORY = load_territory()
PERSON = "p-waiting"
FT, PLIE, CAP = "france_travail_angers_centre", "plie_angers", "cap_emploi_49"


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc)


REGISTERED = PersonRegistered(
    id="reg-1", source=FT, subject=PERSON, time=at(date(2026, 3, 2)),
    data=PersonRegisteredData(structure_id=FT, registered_on=date(2026, 3, 2), birth_year=1986, commune_insee="49007",
                              qpv_resident=False, rqth=False, rsa=False, single_parent=False, education_level="4"))


def prescription(referral_id: str = "rx-plie", day: date = date(2026, 3, 9), to: str = PLIE) -> ReferralIssued:
    return ReferralIssued(id=f"iss-{referral_id}", source=FT, subject=PERSON, time=at(day), data=ReferralIssuedData(
        referral_id=referral_id, kind="prescription", from_structure=FT, to_structure=to, reason="Prescription",
        due_date=day + timedelta(days=15)))


def acknowledged(day: date, referral_id: str = "rx-plie", by: str = PLIE) -> ReferralAcknowledged:
    return ReferralAcknowledged(id=f"ack-{referral_id}-{by}", source=by, subject=PERSON, time=at(day),
                                data=ReferralAcknowledgedData(referral_id=referral_id, structure_id=by))


def accepted(day: date, referral_id: str = "rx-plie", by: str = PLIE) -> ReferralAccepted:
    return ReferralAccepted(id=f"acc-{referral_id}-{by}", source=by, subject=PERSON, time=at(day),
                            data=ReferralAcceptedData(referral_id=referral_id, structure_id=by))


def refused(day: date, referral_id: str = "rx-plie", by: str = PLIE) -> ReferralRefused:
    return ReferralRefused(id=f"ref-{referral_id}-{by}", source=by, subject=PERSON, time=at(day),
                           data=ReferralRefusedData(referral_id=referral_id, structure_id=by, reason_code="no_capacity"))


def play(events: list) -> tuple[PersonState, list[Waiting], list]:
    state, moved, emitted = PersonState(person_id=PERSON), [], []
    for event in events:
        decision = decide(state, event, TERRITORY)
        moved += moves(state, decision.state)
        emitted += decision.events
        state = decision.state
    return state, moved, emitted


def test_an_acceptance_before_its_prescription_is_applied_as_if_in_order() -> None:
    in_order, moved_in_order, _ = play([REGISTERED, prescription(), accepted(date(2026, 3, 12))])
    early, moved, _ = play([REGISTERED, accepted(date(2026, 3, 12)), prescription()])
    assert early == in_order
    plie = early.referrals["rx-plie"]
    assert (plie.status, plie.accepted_on, plie.sla_breached) == (Status.ACCEPTED, date(2026, 3, 12), False)
    assert not early.pending
    assert moved_in_order == []
    assert [(m.outcome, m.referral_id) for m in moved] == [(Outcome.PARKED, "rx-plie"), (Outcome.APPLIED, "rx-plie")]


def test_an_answer_to_a_referral_that_never_comes_waits_its_days_then_leaves_changing_nothing() -> None:
    state, moved, _ = play([REGISTERED, prescription(), accepted(date(2026, 3, 12), referral_id="rx-never")])
    assert [m.outcome for m in moved] == [Outcome.PARKED]
    # Arrived on 12 March, the first day started after it is 13 March: with 30 days it waits until 12 April.
    last = waits_until(date(2026, 3, 12), date(2026, 3, 13), 30)
    assert last == date(2026, 4, 12)
    kept, gone = expire(state, {"acc-rx-never-plie_angers": last}, date(2026, 4, 12))
    assert (kept, gone) == (state, [])
    after, gone = expire(state, {"acc-rx-never-plie_angers": last}, date(2026, 4, 13))
    assert [(g.outcome, g.referral_id, g.answer.structure_id) for g in gone] == [(Outcome.EXPIRED, "rx-never", PLIE)]
    assert not after.pending
    assert after.referrals == state.referrals  # the PLIE's real referral is still waiting for its own answer
    assert after.referrals["rx-plie"].status is Status.ISSUED
    # Should the referral come after all (here joining the open one to the PLIE), the dropped answer is not
    # applied to it: the sender was told to send it again.
    late = decide(after, prescription("rx-never", date(2026, 4, 20)), TERRITORY).state
    assert late.aliases == {"rx-never": "rx-plie"} and late.referrals["rx-plie"].status is Status.ISSUED


def test_a_back_dated_answer_gets_its_full_wait_from_when_it_arrived() -> None:
    # Dated 1 February, arrived on 20 March: it waits from 21 March, not from its date.
    assert waits_until(date(2026, 2, 1), date(2026, 3, 21), 30) == date(2026, 4, 20)
    # Dated ahead of the first day after it arrived: from its date.
    assert waits_until(date(2026, 3, 25), date(2026, 3, 21), 30) == date(2026, 4, 24)


def test_the_dead_letters_reason_names_the_referral_the_sender_and_the_answer_never_the_person() -> None:
    state, _, _ = play([REGISTERED, accepted(date(2026, 3, 12), referral_id="rx-never")])
    _, [gone] = expire(state, {"acc-rx-never-plie_angers": date(2026, 4, 12)}, date(2026, 4, 13))
    why = waiting_answers.reason(gone, wait_days=30, last_day=date(2026, 4, 12))
    assert why.startswith("unknown_referral: ")
    for expected in ("rx-never", PLIE, "acc-rx-never-plie_angers", "referral.accepted", "30 days", "2026-04-12"):
        assert expected in why, expected
    assert PERSON not in why


def test_an_early_answer_from_a_structure_the_referral_was_not_sent_to_is_refused_not_dropped() -> None:
    state, moved, _ = play([REGISTERED, accepted(date(2026, 3, 12), by=CAP), prescription()])
    assert [(m.outcome, m.answer.structure_id) for m in moved] == [(Outcome.PARKED, CAP), (Outcome.MISDIRECTED, CAP)]
    assert state.referrals["rx-plie"].status is Status.ISSUED and not state.pending
    why = waiting_answers.reason(moved[-1], wait_days=30, sent_to=PLIE)
    assert why.startswith("misdirected_answer: ") and PLIE in why and CAP in why


def test_an_answer_naming_a_prescription_that_joins_an_open_referral_applies_to_it() -> None:
    # France Travail prescribes the PLIE twice (two systems, two ids); the PLIE accepts the second id before
    # Ariane has it. The second joins the first: the acceptance applies to the one open referral.
    in_order, _, _ = play([REGISTERED, prescription("rx-a"), prescription("rx-b", date(2026, 3, 10)),
                           accepted(date(2026, 3, 12), referral_id="rx-b")])
    early, moved, _ = play([REGISTERED, prescription("rx-a"), accepted(date(2026, 3, 12), referral_id="rx-b"),
                            prescription("rx-b", date(2026, 3, 10))])
    assert early == in_order and not early.pending
    assert early.referrals["rx-a"].status is Status.ACCEPTED
    assert [m.outcome for m in moved] == [Outcome.PARKED, Outcome.APPLIED]


ANSWER_OF = {"ack": acknowledged, "accept": accepted, "refuse": refused}


@settings(max_examples=200, deadline=None)
@given(answers=st.lists(st.tuples(st.sampled_from(sorted(ANSWER_OF)), st.integers(7, 40)), min_size=1, max_size=4,
                        unique_by=lambda a: a[0]),
       early=st.integers(0, 4))
def test_answers_in_any_order_before_their_prescription_end_as_in_order(answers: list, early: int) -> None:
    """However many of the PLIE's answers reach Ariane before the prescription, the person ends as if every one
    had come after it, and none is left waiting."""
    events = [ANSWER_OF[kind](date(2026, 3, 9) + timedelta(days=d)) for kind, d in answers]
    in_order, _, emitted_in_order = play([REGISTERED, prescription(), *events])
    k = min(early, len(events))
    shuffled, moved, emitted = play([REGISTERED, *events[:k], prescription(), *events[k:]])
    assert shuffled == in_order
    assert [e.id for e in emitted] == [e.id for e in emitted_in_order]
    assert not shuffled.pending
    assert sorted(m.outcome for m in moved) == sorted([Outcome.PARKED] * k + [Outcome.APPLIED] * k)


@settings(max_examples=200, deadline=None)
@given(waits=st.lists(st.tuples(st.sampled_from(["rx-1", "rx-2", "rx-3"]), st.integers(0, 60)), min_size=1,
                      max_size=6),
       day=st.integers(0, 70))
def test_a_tick_drops_exactly_the_answers_whose_wait_is_over(waits: list, day: int) -> None:
    start = date(2026, 3, 1)
    events = [accepted(start, referral_id=rid, by=PLIE).model_copy(update={"id": f"acc-{n}"})
              for n, (rid, _) in enumerate(waits)]
    state, _, _ = play([REGISTERED, prescription("rx-known"), *events])
    until = {f"acc-{n}": start + timedelta(days=d) for n, (_, d) in enumerate(waits)}
    today = start + timedelta(days=day)
    after, gone = expire(state, until, today)
    assert sorted(g.answer.event_id for g in gone) == sorted(e for e, last in until.items() if today > last)
    left = sorted(a.event_id for answers in after.pending.values() for a in answers)
    assert left == sorted(e for e, last in until.items() if today <= last)
    assert after.referrals == state.referrals and all(g.outcome is Outcome.EXPIRED for g in gone)
