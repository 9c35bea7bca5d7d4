"""breaking_changes: v1 may only grow."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from contracts import EVENT_TYPES
from contracts.export import breaking_changes, event_schema


def obj(properties: dict, required: list[str] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def optional(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}], "default": None}


OLD = {
    "type": "object",
    "properties": {
        "type": {"const": "fr.ariane.x", "type": "string"},
        "data": {"$ref": "#/$defs/Data"},
    },
    "required": ["type", "data"],
    "$defs": {
        "Kind": {"enum": ["a", "b"], "type": "string"},
        "Data": obj(
            {
                "kind": {"$ref": "#/$defs/Kind"},
                "name": {"type": "string", "maxLength": 50},
                "count": {"type": "integer", "minimum": 0},
                "note": optional({"type": "string"}),
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            ["kind", "name"],
        ),
    },
}


def changed(edit) -> list[str]:
    new = copy.deepcopy(OLD)
    edit(new)
    return breaking_changes(OLD, new)


def data(schema: dict) -> dict:
    return schema["$defs"]["Data"]


def test_identical_schemas_are_compatible():
    assert breaking_changes(OLD, copy.deepcopy(OLD)) == []


def test_removing_a_property_breaks():
    assert changed(lambda s: data(s)["properties"].pop("count")) == ["data.count: property removed"]


def test_changing_a_type_breaks():
    def edit(s):
        data(s)["properties"]["count"] = {"type": "string"}
    assert changed(edit) == ["data.count: type changed from integer to string"]


def test_removing_an_enum_value_breaks_adding_one_does_not():
    assert changed(lambda s: s["$defs"]["Kind"].update(enum=["a"])) == ["data.kind: enum values removed: ['b']"]
    assert changed(lambda s: s["$defs"]["Kind"].update(enum=["a", "b", "c"])) == []


def test_tightening_constraints_breaks():
    assert changed(lambda s: data(s)["properties"]["name"].update(maxLength=20)) == [
        "data.name: maxLength lowered from 50 (20)"
    ]
    assert changed(lambda s: data(s)["properties"]["name"].update(pattern="^[a-z]+$")) == [
        "data.name: pattern added ('^[a-z]+$')"
    ]
    assert changed(lambda s: data(s)["properties"]["count"].update(minimum=1)) == [
        "data.count: minimum raised from 0 (1)"
    ]
    assert changed(lambda s: data(s)["properties"]["count"].update(maximum=10)) == ["data.count: maximum added (10)"]
    assert changed(lambda s: data(s)["properties"]["tags"]["items"].update(format="date")) == [
        "data.tags[]: format added ('date')"
    ]


def test_loosening_constraints_is_compatible():
    def edit(s):
        data(s)["properties"]["name"]["maxLength"] = 200
        data(s)["properties"]["count"].pop("minimum")
        data(s)["properties"]["count"]["type"] = "number"
    assert changed(edit) == []


def test_optional_made_required_breaks():
    assert changed(lambda s: data(s)["required"].append("count")) == ["data.count: optional property made required"]


def test_nullable_made_non_null_breaks():
    assert changed(lambda s: data(s)["properties"].update(note={"type": "string"})) == [
        "data.note: no longer accepts null (type narrowed)"
    ]


def test_nullable_keeps_details_of_its_non_null_branch():
    def edit(s):
        data(s)["properties"]["note"] = optional({"type": "string", "maxLength": 10})
    assert changed(edit) == ["data.note: maxLength added (10)"]


def test_new_optional_property_is_compatible_new_required_is_not():
    assert changed(lambda s: data(s)["properties"].update(extra=optional({"type": "string"}))) == []

    def required(s):
        data(s)["properties"]["extra"] = {"type": "string"}
        data(s)["required"].append("extra")
    assert changed(required) == ["data.extra: new required property"]


def test_changing_the_type_constant_breaks():
    assert changed(lambda s: s["properties"]["type"].update(const="fr.ariane.y")) == [
        "type: value narrowed to const 'fr.ariane.y'"
    ]


def test_widening_to_nullable_is_compatible():
    assert changed(lambda s: data(s)["properties"].update(count=optional({"type": "integer"}))) == []


def test_forbidding_extra_properties_breaks():
    loose = copy.deepcopy(OLD)
    data(loose)["additionalProperties"] = True
    assert breaking_changes(loose, OLD) == ["data: additional properties now forbidden"]


# --- properties over random flat objects -----------------------------------------------------------------

SCALARS = st.sampled_from(
    [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "string", "format": "date"},
     {"enum": ["x", "y", "z"], "type": "string"}]
)
NAMES = st.text(alphabet="abcdefgh", min_size=1, max_size=6)


@st.composite
def objects(draw):
    props = draw(st.dictionaries(NAMES, SCALARS, min_size=1, max_size=6))
    required = draw(st.lists(st.sampled_from(sorted(props)), unique=True))
    return obj(props, required)


@given(objects())
def test_a_schema_is_compatible_with_itself(schema):
    assert breaking_changes(schema, copy.deepcopy(schema)) == []


@given(objects(), NAMES, SCALARS)
def test_adding_an_optional_property_is_always_compatible(schema, name, prop):
    if name in schema["properties"]:
        return
    new = copy.deepcopy(schema)
    new["properties"][name] = optional(prop)
    assert breaking_changes(schema, new) == []


@given(objects(), st.data())
def test_removing_any_property_is_always_reported(schema, draw):
    name = draw.draw(st.sampled_from(sorted(schema["properties"])))
    new = copy.deepcopy(schema)
    del new["properties"][name]
    new["required"] = [r for r in new["required"] if r != name]
    assert f"{name}: property removed" in breaking_changes(schema, new)


@given(objects(), st.data())
def test_requiring_any_optional_property_is_always_reported(schema, draw):
    optional_names = sorted(set(schema["properties"]) - set(schema["required"]))
    if not optional_names:
        return
    name = draw.draw(st.sampled_from(optional_names))
    new = copy.deepcopy(schema)
    new["required"].append(name)
    assert breaking_changes(schema, new) == [f"{name}: optional property made required"]


@given(objects(), st.data())
def test_changing_a_property_to_another_type_is_reported(schema, draw):
    name = draw.draw(st.sampled_from(sorted(schema["properties"])))
    new = copy.deepcopy(schema)
    new["properties"][name] = {"type": "null"}
    assert any(p.startswith(f"{name}: type changed") for p in breaking_changes(schema, new))


def test_every_real_event_schema_is_compatible_with_itself():
    for cls in EVENT_TYPES.values():
        assert breaking_changes(event_schema(cls), event_schema(cls)) == []


def test_making_identity_required_would_break_person_registered():
    old = event_schema(EVENT_TYPES["fr.ariane.person.registered"])
    new = copy.deepcopy(old)
    new["$defs"]["PersonRegisteredData"]["required"].append("identity")
    assert breaking_changes(old, new) == ["data.identity: optional property made required"]
