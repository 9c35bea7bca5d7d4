"""Export the contracts as committed files (JSON Schema per event, AsyncAPI) and check them against the code.

json_schema: one schema per event type · asyncapi: the topics, their writers, readers and messages ·
compatibility: the additive-only v1 rule between two schemas · files: write or check the committed files.
"""

from contracts.export.asyncapi import ASYNCAPI, DEADLETTER_PAYLOAD, KAFKA_BINDING_VERSION, asyncapi_document
from contracts.export.compatibility import BreakingChangeError, breaking_changes
from contracts.export.files import CONTRACTS_DIR, expected_files, export, render
from contracts.export.json_schema import JSON_SCHEMA_DIALECT, SCHEMAS, event_schema, schema_filename

__all__ = [
    "ASYNCAPI", "CONTRACTS_DIR", "DEADLETTER_PAYLOAD", "JSON_SCHEMA_DIALECT", "KAFKA_BINDING_VERSION", "SCHEMAS",
    "BreakingChangeError", "asyncapi_document", "breaking_changes", "event_schema", "expected_files", "export",
    "render", "schema_filename",
]
