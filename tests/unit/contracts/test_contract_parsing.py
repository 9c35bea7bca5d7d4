"""Parsing refuses what breaks the contract, saying where, the way intake answers a partner (HTTP 422)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import EVENT_TYPES, ContractError, parse_event
from contracts.clock import DayStarted, clock_event_id
from contracts.people import (
    Identity,
    PersonProfileUpdated,
    PersonRegistered,
    carries_identity,
    without_identity,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def errors_of(raw) -> dict[str, str]:
    with pytest.raises(ContractError) as caught:
        parse_event(raw)
    return {e.loc: e.type for e in caught.value.errors}


def test_bad_profile_fields_are_located_in_data():
    raw = example("person.registered")
    raw["data"] |= {"birth_year": "nineteen", "commune_insee": "4900", "education_level": "bac"}
    del raw["data"]["rsa"]
    assert errors_of(raw) == {
        "data.birth_year": "int_parsing",
        "data.commune_insee": "string_pattern_mismatch",
        "data.education_level": "enum",
        "data.rsa": "missing",
    }


def test_nested_and_envelope_errors_are_located():
    raw = example("dispositif.exited")
    raw["data"]["next_step"]["kind"] = "holiday"
    raw["time"] = "yesterday"
    raw["surprise"] = 1
    assert errors_of(raw) == {"data.next_step.kind": "enum", "time": "datetime_from_date_parsing",
                              "surprise": "extra_forbidden"}


def test_errors_never_echo_the_value():
    raw = example("person.registered.inbound")
    raw["data"]["identity"]["nir"] = "2990149007999XX"
    with pytest.raises(ContractError) as caught:
        parse_event(raw)
    assert [e.loc for e in caught.value.errors] == ["data.identity.nir"]
    assert "2990149007999XX" not in str(caught.value)
    assert "2990149007999XX" not in json.dumps(caught.value.as_dicts())


def test_unknown_or_missing_type_is_a_contract_error():
    raw = example("job.ended") | {"type": "fr.ariane.job.lost"}
    assert errors_of(raw) == {"type": "unknown_event_type"}
    assert errors_of({k: v for k, v in raw.items() if k != "type"}) == {"type": "missing"}
    assert errors_of(b"not json") == {"": "json_invalid"}
    assert errors_of("[1, 2]") == {"": "model_type"}
    assert isinstance(ContractError([]), ValueError)


@given(st.text(min_size=1, max_size=40).filter(lambda t: t not in EVENT_TYPES))
def test_any_other_type_is_refused(event_type: str):
    raw = example("case.closed") | {"type": event_type}
    assert errors_of(raw) == {"type": "unknown_event_type"}


def test_identity_is_never_required_on_service_emitted_events():
    # identity only exists on the two partner-sent person events, and is optional there
    for full, cls in EVENT_TYPES.items():
        data_model = cls.model_fields["data"].annotation
        if "identity" in data_model.model_fields:
            assert not data_model.model_fields["identity"].is_required(), full
            assert cls in (PersonRegistered, PersonProfileUpdated)
        assert "identity" not in cls.model_json_schema()["properties"]
    # the committed service-side example has none
    assert not carries_identity(parse_event(example("person.registered")))


def test_intake_strips_identity_before_publishing():
    inbound = parse_event(example("person.registered.inbound"))
    assert carries_identity(inbound)
    assert inbound.data.identity.nir == "104074900712345"  # spaces removed
    assert inbound.data.identity.can_pseudonymise
    published = without_identity(inbound)
    assert not carries_identity(published)
    assert b"identity" not in published.to_json_bytes()
    assert parse_event(published.to_json_bytes()) == published


def test_an_identity_only_profile_update_publishes_nothing():
    raw = example("person.profile_updated")
    raw["data"] = {"structure_id": "departement_49", "identity": {"phone": "07 00 00 00 00"}}
    update = parse_event(raw)
    assert without_identity(update) is None
    raw["data"] = {"structure_id": "departement_49"}
    assert errors_of(raw) == {"data": "value_error"}


def test_identity_without_nir_needs_name_and_birth_date():
    assert not Identity(last_name="Martin").can_pseudonymise
    assert Identity(last_name="Martin", first_names="Léa", birth_date=date(2001, 5, 14)).can_pseudonymise


def test_clock_ticks_are_one_per_day():
    day = date(2025, 3, 25)
    tick = DayStarted.for_day(day)
    assert tick.id == clock_event_id(day) == "clock-2025-03-25"
    assert tick.subject == "clock" and tick.time.isoformat() == "2025-03-25T00:00:00+01:00"
    # a second clock produces the same id: the inbox drops the double
    assert DayStarted.for_day(day).id == tick.id
    raw = example("clock.day_started")
    del raw["id"]
    assert parse_event(raw).id == "clock-2025-03-25"
    assert errors_of(example("clock.day_started") | {"id": "another"}) == {"": "value_error"}
    assert errors_of(example("clock.day_started") | {"subject": "p-1"}) == {"subject": "literal_error"}


def test_caused_events_keep_the_thread():
    registered = parse_event(example("person.registered"))
    referral = parse_event(example("referral.issued"))
    again = registered.caused(type(referral), source="ariane/referral", data=referral.data, event_id="r-1")
    assert again.causationid == registered.id and again.subject == registered.subject
    assert again.correlationid == registered.correlationid
