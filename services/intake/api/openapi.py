"""Intake's OpenAPI document, as committed in contracts/openapi/intake.json (`ariane intake openapi`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from contracts.events import EVENT_TYPES, PARTNER_TYPES
from contracts.export.json_schema import event_schema


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """Intake's OpenAPI document: the app's, with the real partner event schemas as the request body and
    /metrics as the Prometheus text it is."""
    document = app.openapi()
    components = document.setdefault("components", {}).setdefault("schemas", {})
    variants = []
    for event_type in sorted(PARTNER_TYPES):
        cls = EVENT_TYPES[event_type]
        schema = event_schema(cls)
        name = cls.__name__
        for def_name, definition in schema.pop("$defs", {}).items():
            components[f"{name}_{def_name}"] = _rebased(definition, name)
        schema.pop("$schema", None)
        components[name] = _rebased(schema, name)
        variants.append({"$ref": f"#/components/schemas/{name}"})
    components["PartnerEvent"] = {"description": "A partner event: one of the v1 contracts partners may send.",
                                  "oneOf": variants}
    metrics = document.get("paths", {}).get("/metrics", {}).get("get")
    if metrics:
        metrics["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
        metrics["responses"]["200"]["description"] = "Prometheus text exposition format."
    return document


def _rebased(node: Any, prefix: str) -> Any:
    """A JSON Schema whose local $refs (#/$defs/X) point at the document's components (#/components/schemas/P_X)."""
    if isinstance(node, dict):
        return {k: (f"#/components/schemas/{prefix}_{v.removeprefix('#/$defs/')}"
                    if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/") else _rebased(v, prefix))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rebased(v, prefix) for v in node]
    return node
