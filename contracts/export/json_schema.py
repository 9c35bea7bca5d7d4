"""One JSON Schema per event type: the whole CloudEvents envelope, `data` included."""

from __future__ import annotations

from typing import Any

from contracts.envelope import SCHEMA_VERSION, Envelope, schema_uri

SCHEMAS = "schemas"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_filename(short_type: str) -> str:
    return f"{short_type}.v{SCHEMA_VERSION}.json"


def event_schema(cls: type[Envelope]) -> dict[str, Any]:
    """The JSON Schema of one event type (the whole envelope, `data` included)."""
    schema = cls.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = schema_uri(cls.short_type)
    return schema
