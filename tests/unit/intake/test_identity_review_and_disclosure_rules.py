"""The pure rules of identity reviews and disclosures: one review per pair, what is named (never shown), a
decision taken once, who may see an identity on what basis, and reasons that may be published."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.followup import CheckinDue, PersonLost
from contracts.identity import DisclosureBasis, MatchedField, ReviewDecision
from contracts.referrals import ReferralIssued
from services.intake.domain import disclosure, reviews
from services.intake.domain.disclosure import Caller, NotEntitled
from services.intake.domain.entitlements import entitled_by
from services.intake.domain.identity import IdentityFacts

WHEN = datetime(2025, 3, 2, 8, 41, tzinfo=timezone.utc)
A = IdentityFacts(last_name="Benali", first_names="Yanis", birth_date=date(2004, 7, 19), phone="06 12 34 56 78")
B = IdentityFacts(last_name="Ben Ali", first_names="yanis", birth_date=date(2004, 7, 19), phone="+33 6 12 34 56 78")
NEWER, OLDER = "p_" + "b" * 32, "p_" + "a" * 32
person_ids = st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: "p_" + h)


@given(person_ids, person_ids)
def test_a_pair_has_one_review_id_whichever_order_it_comes_in(a: str, b: str) -> None:
    assert reviews.review_id(a, b) == reviews.review_id(b, a)
    assert len(reviews.review_id(a, b)) <= 64


def test_what_matched_is_named_never_shown_and_a_missing_nir_is_said() -> None:
    review = reviews.opening(NEWER, OLDER, B, A)
    assert review.matched == (MatchedField.FIRST_NAMES, MatchedField.BIRTH_DATE, MatchedField.PHONE)
    assert review.missing == ("nir",)
    event = reviews.opened_event(review, "evt-1", None, WHEN, WHEN)
    assert event.subject == NEWER and event.id == f"{review.review_id}:opened"
    assert "Benali" not in event.model_dump_json() and "06 12" not in event.model_dump_json()


def test_a_decision_is_taken_once_and_same_person_keeps_the_older_id() -> None:
    review = reviews.opening(NEWER, OLDER, B, A)
    different = reviews.decide("pending", review, ReviewDecision.DIFFERENT_PEOPLE, "coordination_territoriale",
                               None, (NEWER, OLDER), False, WHEN)
    assert [e.type for e in different.events] == ["fr.ariane.identity.review_decided"] and different.merged is None
    same = reviews.decide("pending", review, ReviewDecision.SAME_PERSON, "coordination_territoriale", "vu",
                          (NEWER, OLDER), False, WHEN)
    merge = same.events[1]
    assert (same.kept, same.merged) == (OLDER, NEWER)
    assert (merge.data.kept_person_id, merge.data.merged_person_id, merge.data.rule) == (OLDER, NEWER, "manual")
    with pytest.raises(reviews.AlreadyDecided, match="already decided: different_people"):
        reviews.decide("different_people", review, ReviewDecision.SAME_PERSON, "coordination_territoriale", None, (NEWER, OLDER), False,
                       WHEN)
    with pytest.raises(reviews.NeverOnePerson):
        reviews.decide("pending", review, ReviewDecision.SAME_PERSON, "coordination_territoriale", None, (NEWER, OLDER), True, WHEN)
    already_one = reviews.decide("pending", review, ReviewDecision.SAME_PERSON, "coordination_territoriale", None, (OLDER, OLDER), False,
                                 WHEN)
    assert already_one.merged is None and len(already_one.events) == 1


@pytest.mark.parametrize(("role", "held", "expected"), [
    ("partner", {"registered"}, DisclosureBasis.REGISTERED),
    ("counsellor", {"asked_to_act"}, DisclosureBasis.ASKED_TO_ACT),
    ("partner", {"asked_to_act", "registered"}, DisclosureBasis.REGISTERED),
    ("coordinator", set(), DisclosureBasis.COORDINATOR_REVEAL),
    ("partner", set(), None),
    ("counsellor", set(), None),
    ("auditor", {"registered"}, None),
])
def test_who_may_see_an_identity(role: str, held: set[str], expected: DisclosureBasis | None) -> None:
    caller = Caller("k1", role, "mission_locale_angevine")
    if expected is None:
        with pytest.raises(NotEntitled):
            disclosure.basis_for(caller, held)
    else:
        assert disclosure.basis_for(caller, held) is expected


def test_a_reason_says_why_never_who() -> None:
    names = {"benali", "yanis"}
    assert disclosure.reason_problem("rappeler la personne", names) is None
    assert "3 to 500" in disclosure.reason_problem("  a ", names)
    assert "name" in disclosure.reason_problem("appeler Yanis", names)
    assert "nir" in disclosure.reason_problem("NIR 1 04 07 49 007 123 45", names)
    assert "phone" in disclosure.reason_problem("au 06 12 34 56 78", names)


def test_the_structures_an_event_asks_to_act() -> None:
    issued = ReferralIssued.model_validate({
        "id": "r1", "source": "ariane/referral", "subject": NEWER, "time": WHEN,
        "data": {"referral_id": "ref-1", "kind": "orientation", "from_structure": "france_travail_angers_centre",
                 "to_structure": "mission_locale_angevine", "reason": "moins de 26 ans", "due_date": "2025-03-16"}})
    lost = PersonLost.model_validate({
        "id": "l1", "source": "ariane/followup", "subject": NEWER, "time": WHEN,
        "data": {"reason": "job_ended_unheld", "since": "2025-01-01", "structure_to_act": "plie_angers",
                 "detected_on": "2025-03-02"}})
    due = CheckinDue.model_validate({
        "id": "c1", "source": "ariane/followup", "subject": NEWER, "time": WHEN,
        "data": {"checkin_id": "chk-1", "structure_id": "aldev_cite_emploi", "due_on": "2025-04-01",
                 "months_after": 3, "anchor": "exit"}})
    assert entitled_by(issued) == [("mission_locale_angevine", DisclosureBasis.ASKED_TO_ACT)]
    assert entitled_by(lost) == [("plie_angers", DisclosureBasis.ASKED_TO_ACT)]
    assert entitled_by(due) == [("aldev_cite_emploi", DisclosureBasis.ASKED_TO_ACT)]
