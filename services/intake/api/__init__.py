"""Intake's HTTP API, one module per job; `router` holds them all.

- `ingress`: POST /v1/events, partners' events (a structure's partner key).
- `reviews`: GET /v1/identity-reviews, POST /v1/identity-reviews/{review_id}/decision (the coordinator).
- `identity`: POST /v1/people/{person_id}/identity, controlled re-identification (a structure's keys for the
  people it registered or is asked to act on; the coordinator for anyone, with a reason).
- `disclosures`: GET /v1/disclosures, who saw whose identity (auditors and the coordinator).
- `erasure`: POST /v1/erasures, erase a person (who may see the identity may erase it; never an auditor), and
  GET /v1/erasures, who was erased (auditors and the coordinator).
- `export`: GET /v1/people/{person_id}/export, a person's access request: everything intake holds on them
  (who may see the identity may ask, with a reason; itself a disclosure).
- `file_numbers`: POST /v1/file-numbers, the structures' own file numbers of the people a page shows (a
  structure's keys their own, the coordinator any structure's; never an auditor).
- `caller`: who calls these routes, from the credentials book; `disclosing`: one disclosure, recorded and
  announced together; `openapi`: the committed document.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.api import disclosures, erasure, export, file_numbers, identity, ingress, reviews
from services.intake.api.openapi import openapi_document

__all__ = ["openapi_document", "router"]

router = APIRouter()
for _module in (ingress, reviews, identity, disclosures, erasure, export, file_numbers):
    router.include_router(_module.router)
