"""The four attributes CloudEvents requires are required in every published schema: the listed exception of
the v1 compatibility rule, and the only one."""

from __future__ import annotations

import copy

from contracts import EVENT_TYPES
from contracts.export import breaking_changes, event_schema
from contracts.export.compatibility import CLOUDEVENTS_REQUIRED


def test_every_published_schema_requires_id_source_specversion_and_type():
    for cls in EVENT_TYPES.values():
        assert {"id", "source", "specversion", "type"} <= set(event_schema(cls)["required"]), cls.short_type


def test_requiring_the_cloudevents_attributes_is_the_listed_exception_and_nothing_else_is():
    new = event_schema(EVENT_TYPES["fr.ariane.referral.refused"])
    old = copy.deepcopy(new)
    old["required"] = [r for r in old["required"] if r not in CLOUDEVENTS_REQUIRED]
    assert breaking_changes(old, new) == []
    stricter = copy.deepcopy(new)
    stricter["required"] = [*new["required"], "correlationid"]
    assert breaking_changes(new, stricter) == ["correlationid: optional property made required"]
    # Nested properties named like CloudEvents attributes get no exception.
    nested_old = {"type": "object", "properties": {"data": {"type": "object", "properties": {"id": {}},
                                                            "required": []}}}
    nested_new = copy.deepcopy(nested_old)
    nested_new["properties"]["data"]["required"] = ["id"]
    assert breaking_changes(nested_old, nested_new) == ["data.id: optional property made required"]
