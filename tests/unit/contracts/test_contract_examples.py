"""Every committed example is a valid event of its type and survives a round trip through the wire format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts import BY_SHORT_TYPE, EVENT_TYPES, ContractError, parse_event, parse_events
from contracts.envelope import full_type, schema_uri
from contracts.events import TOPIC_TYPES, event_adapter

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "contracts" / "examples").glob("*.json"))


def short_type_of(path: Path) -> str:
    # person.registered.json and person.registered.inbound.json are both person.registered examples
    for short in sorted(BY_SHORT_TYPE, key=len, reverse=True):
        if path.name == f"{short}.json" or path.name.startswith(f"{short}."):
            return short
    raise AssertionError(f"{path.name} names no event type")


def test_every_event_type_has_an_example():
    covered = {short_type_of(p) for p in EXAMPLES}
    assert covered == set(BY_SHORT_TYPE)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_and_round_trips(path: Path):
    raw = path.read_bytes()
    event = parse_event(raw)
    assert event.short_type == short_type_of(path)
    assert isinstance(event, BY_SHORT_TYPE[event.short_type])
    # bytes -> model -> bytes -> model is the identity, and the wire form is what the file says
    again = parse_event(event.to_json_bytes())
    assert again == event
    assert json.loads(event.to_json_bytes()) == json.loads(raw) | {"data": json.loads(event.to_json_bytes())["data"]}
    # the same through the dict path and the TypeAdapter
    assert parse_event(json.loads(raw)) == event
    assert event_adapter.validate_json(raw) == event


def test_event_classes_are_consistent():
    for full, cls in EVENT_TYPES.items():
        assert full == full_type(cls.short_type)
        assert cls.model_fields["dataschema"].default == schema_uri(cls.short_type)
        assert cls.model_config.get("frozen") is True
        assert cls.__doc__ and cls.model_fields["data"].annotation.__doc__


def test_every_data_field_is_documented():
    for cls in EVENT_TYPES.values():
        stack = [cls.model_fields["data"].annotation]
        while stack:
            model = stack.pop()
            assert model.__doc__, model
            for name, field in model.model_fields.items():
                assert field.description, f"{model.__name__}.{name} has no description"
                if name != "identity" and name != "next_step":
                    assert field.examples, f"{model.__name__}.{name} has no examples"
            stack.extend(
                f.annotation.__args__[0] for f in model.model_fields.values()
                if getattr(f.annotation, "__args__", None) and hasattr(f.annotation.__args__[0], "model_fields")
            )


def test_every_type_travels_on_some_topic():
    carried = set().union(*TOPIC_TYPES.values())
    assert carried == set(EVENT_TYPES)


def test_a_batch_parses_in_order():
    events = parse_events([p.read_bytes() for p in EXAMPLES])
    assert [e.short_type for e in events] == [short_type_of(p) for p in EXAMPLES]


def test_a_batch_reports_errors_with_their_index():
    good = EXAMPLES[0].read_bytes()
    with pytest.raises(ContractError) as caught:
        parse_events([good, b"{}", good])
    assert [(e.index, e.loc) for e in caught.value.errors] == [(1, "type")]
