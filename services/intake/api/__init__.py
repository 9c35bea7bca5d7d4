"""Intake's HTTP API, one module per job; `router` holds them all.

- `ingress`: POST /v1/events, partners' events (a structure's partner key).
- `openapi`: the committed document.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.api import ingress
from services.intake.api.openapi import openapi_document

__all__ = ["openapi_document", "router"]

router = APIRouter()
for _module in (ingress,):
    router.include_router(_module.router)
