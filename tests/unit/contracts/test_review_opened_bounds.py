"""identity.review_opened, emitted by intake alone, now bounds its two lists: a reader (followup stores both)
can rely on their size. Adding those bounds is a listed exception of the v1 rule, for that type only."""

from __future__ import annotations

import copy

import pytest

from contracts import EVENT_TYPES, ContractError, parse_event
from contracts.export import breaking_changes, event_schema

REVIEW_OPENED = "fr.ariane.identity.review_opened"


def _review(**data: object) -> dict[str, object]:
    return {"specversion": "1.0", "id": "rev-opened-1", "source": "ariane/intake", "type": REVIEW_OPENED,
            "subject": "p_new", "time": "2025-03-03T09:00:00+01:00",
            "data": {"review_id": "rev-1", "person_id": "p_new", "other_person_id": "p_old",
                     "matched": ["last_name", "first_names", "birth_date"], "missing": ["nir"], **data}}


def test_what_intake_emits_for_a_review_still_parses():
    assert parse_event(_review()).data.missing == ["nir"]


@pytest.mark.parametrize("data", [
    {"missing": ["nir"] * 9},
    {"missing": ["n" * 33]},
    {"matched": ["last_name", "first_names", "birth_date", "email", "phone", "email"]},
])
def test_an_oversized_list_is_refused(data):
    with pytest.raises(ContractError):
        parse_event(_review(**data))


def _without_list_bounds(schema: dict) -> dict:
    old = copy.deepcopy(schema)
    props = old["$defs"]["IdentityReviewOpenedData"]["properties"]
    props["matched"].pop("maxItems")
    props["missing"].pop("maxItems")
    props["missing"]["items"].pop("maxLength")
    return old


def test_bounding_the_review_lists_is_the_listed_exception():
    new = event_schema(EVENT_TYPES[REVIEW_OPENED])
    assert breaking_changes(_without_list_bounds(new), new) == []


def test_the_exception_covers_neither_a_lowered_bound_nor_another_type():
    new = event_schema(EVENT_TYPES[REVIEW_OPENED])
    tighter = copy.deepcopy(new)
    tighter["$defs"]["IdentityReviewOpenedData"]["properties"]["missing"]["maxItems"] = 2
    assert breaking_changes(new, tighter) == ["data.missing: maxItems lowered from 8 (2)"]
    other_old, other_new = _without_list_bounds(new), copy.deepcopy(new)
    for schema in (other_old, other_new):
        schema["properties"]["type"]["const"] = "fr.ariane.some.other_type"
    assert "data.matched: maxItems added (5)" in breaking_changes(other_old, other_new)
