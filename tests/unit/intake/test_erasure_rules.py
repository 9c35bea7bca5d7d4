"""The pure rules of erasure: who may erase (who may see the identity, never an auditor), the id a person
registered again after an erasure gets, the person.erased event, and when the retention period is over."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.erasure import ErasureReason
from contracts.events import parse_event
from services.intake.domain import erasure
from services.intake.domain.disclosure import Caller, NotEntitled
from services.intake.domain.identity import IdentityFacts, is_person_id, person_id_for

SECRET = b"territory-secret-for-tests"
WHEN = datetime(2025, 3, 2, 8, 41, tzinfo=timezone.utc)
person_ids = st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: "p_" + h)


@pytest.mark.parametrize("role, structure, held, allowed", [
    ("coordinator", "coordination_territoriale", set(), True),
    ("partner", "cap_emploi_49", {"registered"}, True),
    ("counsellor", "mission_locale_angevine", {"asked_to_act"}, True),
    ("partner", "france_travail_angers_est", set(), False),
    ("counsellor", "france_travail_angers_est", set(), False),
    ("auditor", "angers-loire-metropole", {"registered"}, False),
    ("web", "coordination_territoriale", set(), False),
])
def test_who_may_erase_is_who_may_see_the_identity_never_an_auditor(role, structure, held, allowed) -> None:
    caller = Caller(key_id="k1", role=role, structure=structure)
    if allowed:
        erasure.may_erase(caller, held)
    else:
        with pytest.raises(NotEntitled):
            erasure.may_erase(caller, held)


@given(person_ids)
def test_a_person_registered_again_after_an_erasure_gets_another_id_and_always_the_same(erased: str) -> None:
    successor = erasure.successor_id(erased, SECRET)
    assert successor != erased and is_person_id(successor)
    assert erasure.successor_id(erased, SECRET) == successor  # a replay of the registration: the same new id
    assert erasure.successor_id(erased, b"another territory") != successor


def test_the_successor_of_an_identity_id_is_not_the_id_of_the_identity() -> None:
    lina = IdentityFacts(nir="203114900731842", last_name="Vasconcelos", first_names="Lina",
                         birth_date=date(2003, 11, 8))
    first = person_id_for(lina, SECRET)
    assert erasure.successor_id(first, SECRET) not in (first, person_id_for(lina, b"other"))


def test_person_erased_names_who_asked_and_why_never_an_identity() -> None:
    event = erasure.erased_event("era-1", "p_" + "a" * 32, ["p_" + "a" * 32, "p_" + "b" * 32],
                                 ErasureReason.PERSON_REQUEST, "coordination_territoriale", WHEN, date(2025, 3, 2))
    assert event.subject == event.data.person_id == "p_" + "a" * 32
    assert event.data.merged_person_ids == ["p_" + "b" * 32]  # the person itself is not among the merged
    assert parse_event(event.to_json_bytes()) == event  # what intake publishes follows the contract
    assert set(json.loads(event.to_json_bytes())["data"]) == {
        "erasure_id", "person_id", "erased_on", "reason", "requested_by", "merged_person_ids"}


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 3000),
       st.integers(1, 3650))
def test_the_retention_period_is_over_from_the_day_it_has_run(closed: date, after: int, days: int) -> None:
    today = closed + timedelta(days=after)
    assert erasure.retention_over(closed, today, days) == (after >= days)


def test_a_territory_keeps_people_two_years_after_their_closure_unless_its_file_says_otherwise() -> None:
    from contracts.territory import load_territory
    from services.intake.settings import IntakeSettings

    territory = load_territory(IntakeSettings().territory_file)
    assert territory.retention_days == 730
    assert territory.model_copy(update={"retention_days": 365}).retention_days == 365
