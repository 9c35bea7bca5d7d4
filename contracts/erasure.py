"""Erasure: a person's identity was destroyed in intake's vault (RGPD, the right to erasure or the end of the
retention period), and every service forgets what could single them out.

- `person.erased`: intake shredded the person's key (their identity can no longer be read by anyone) and
  dropped the structures' file numbers for them. Services keep the person's pseudonymous facts, so that counts
  and states stay true, and forget anything that could tell who they are (a structure's file number).
  Carries no identity and no name: who asked is a structure id or a role.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Envelope, Payload, schema_field, type_field
from contracts.vocabulary import Identifier, PersonId, StructureId


class ErasureReason(StrEnum):
    """Why a person was erased: they asked (droit à l'effacement), or the retention period is over."""

    PERSON_REQUEST = "person_request"
    RETENTION_PERIOD_OVER = "retention_period_over"


class PersonErasedData(Payload):
    """A person's identity is gone from Ariane; their pseudonymous facts stay, their file numbers do not."""

    erasure_id: Identifier = Field(description="Id of this erasure (the audit entry has the same id).",
                                   examples=["era-5d0c7e21b4"])
    person_id: PersonId = Field(description="Who was erased (the event's subject).", examples=["p-7f3a9c2e51"])
    erased_on: date = Field(description="The day the erasure took effect.", examples=["2026-03-02"])
    reason: ErasureReason = Field(description="Why.", examples=["person_request"])
    requested_by: StructureId = Field(description="The structure (or the territory coordinator) that asked; "
                                      "never a person's name.", examples=["coordination_territoriale"])
    merged_person_ids: list[PersonId] = Field(default_factory=list,
                                              description="Ids earlier folded into this person, erased with it.",
                                              examples=[[]])


class PersonErased(Envelope):
    """fr.ariane.person.erased: a person was erased from the identity vault (emitted by intake)."""

    short_type: ClassVar[str] = "person.erased"
    type: Literal["fr.ariane.person.erased"] = type_field("person.erased")
    dataschema: str = schema_field("person.erased")
    data: PersonErasedData
