"""Every field a partner may send has a size limit in the published schema, so an oversized value is refused at
the door (HTTP 422, or a dead letter on the inbound topic) instead of being stored and stalling the outbox."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from contracts import EVENT_TYPES, PARTNER_TYPES, ContractError, parse_event
from contracts.export import breaking_changes, event_schema

EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"


def _fixed_length(pattern: str | None) -> bool:
    """An anchored pattern without an open repetition (`*`, `+`, `{n,}`) accepts only short values."""
    return (pattern is not None and pattern.startswith("^") and pattern.endswith("$")
            and not re.search(r"[*+]|\{\d*,\}", pattern))


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def unbounded(node: dict[str, Any], root: dict[str, Any], path: str = "") -> list[str]:
    """Paths of the strings and arrays of a schema that accept a value of any size."""
    node = _resolve(node, root)
    out: list[str] = []
    for key in ("anyOf", "oneOf"):
        for variant in node.get(key, []):
            out.extend(unbounded(variant, root, path))
    kind = node.get("type")
    if (kind == "string" and not ({"maxLength", "const", "enum", "format"} & node.keys())
            and not _fixed_length(node.get("pattern"))):
        out.append(path)
    if kind == "array":
        if "maxItems" not in node:
            out.append(f"{path}[]")
        out.extend(unbounded(node.get("items", {}), root, f"{path}[]"))
    for name, prop in node.get("properties", {}).items():
        out.extend(unbounded(prop, root, f"{path}.{name}" if path else name))
    return out


@pytest.mark.parametrize("event_type", sorted(PARTNER_TYPES))
def test_every_string_and_list_a_partner_sends_has_a_size_limit(event_type):
    schema = event_schema(EVENT_TYPES[event_type])
    assert unbounded(schema, schema) == []


def test_the_finder_of_unbounded_fields_finds_one():
    schema = {"type": "object", "properties": {"note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                               "tags": {"type": "array", "items": {"type": "string",
                                                                                    "maxLength": 3}}}}
    assert unbounded(schema, schema) == ["note", "tags[]"]
    schema["properties"]["note"] = {"type": "string", "pattern": "^[a-z]+$"}
    schema["properties"]["tags"]["maxItems"] = 5
    assert unbounded(schema, schema) == ["note"]


def _refused(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ContractError) as caught:
        parse_event(raw)
    return {e.loc: e.msg for e in caught.value.errors}


def test_a_megabyte_datacontenttype_is_refused_by_name_and_not_echoed():
    raw = json.loads((EXAMPLES / "contact.recorded.json").read_text(encoding="utf-8"))
    raw["datacontenttype"] = "x" * (1 << 20)
    errors = _refused(raw)
    assert list(errors) == ["datacontenttype"]
    assert len(errors["datacontenttype"]) < 200


def test_datacontenttype_is_application_json_and_nothing_else():
    raw = json.loads((EXAMPLES / "contact.recorded.json").read_text(encoding="utf-8"))
    assert parse_event({**raw, "datacontenttype": "application/json"}).datacontenttype == "application/json"
    assert "datacontenttype" in _refused({**raw, "datacontenttype": "text/plain"})


def test_a_dataschema_longer_than_256_characters_is_refused():
    raw = json.loads((EXAMPLES / "contact.recorded.json").read_text(encoding="utf-8"))
    assert "dataschema" in _refused({**raw, "dataschema": "ariane:" + "s" * 300})


def test_pinning_datacontenttype_to_its_default_is_the_listed_exception_and_nothing_else_is():
    new = event_schema(EVENT_TYPES["fr.ariane.referral.refused"])
    old = copy.deepcopy(new)
    old["properties"]["datacontenttype"].pop("const")
    assert breaking_changes(old, new) == []
    other = copy.deepcopy(new)
    other["properties"]["datacontenttype"]["const"] = "text/plain"
    assert breaking_changes(old, other) == ["datacontenttype: value narrowed to const 'text/plain'"]
    # A nested property of the same name gets no exception.
    nested_old = {"type": "object", "properties": {"data": {"type": "object", "properties": {
        "datacontenttype": {"type": "string", "default": "application/json"}}}}}
    nested_new = copy.deepcopy(nested_old)
    nested_new["properties"]["data"]["properties"]["datacontenttype"]["const"] = "application/json"
    assert breaking_changes(nested_old, nested_new) == [
        "data.datacontenttype: value narrowed to const 'application/json'"]
