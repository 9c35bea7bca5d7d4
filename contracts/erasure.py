"""Erasure: a person's identity was destroyed in intake's vault (RGPD, the right to erasure or the end of the
retention period), and every service forgets what could single them out.

- `person.erased`: intake shredded the person's key (their identity can no longer be read by anyone) and
  dropped the structures' file numbers for them. Services keep the person's pseudonymous facts, so that counts
  and states stay true, and forget anything that could tell who they are (a structure's file number).
  Carries no identity and no name: who asked is a structure id or a role.

Intake publishes no file number (a topic cannot be rewritten, so a number there would outlive the erasure):
the structures' pages read their numbers from intake, which deletes them with the person. Records written
before that still carry a `partner_ref`; a copy of the log made after an erasure (an archive) applies the
`person.erased` events it holds to them (`erased_people`, `without_file_number`): the registrations and
profile updates of an erased person keep their facts, and their `partner_ref` becomes `ERASED_FILE_NUMBER`.
Intake's README ("The file number on Kafka after an erasure") says why and what stays.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
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


ERASED_FILE_NUMBER = "[erased]"  # what an erased person's partner_ref reads in a copy of the log (still valid)
_ERASED_TYPE = "fr.ariane.person.erased"


def _event(value: bytes) -> dict | None:
    try:
        event = json.loads(value)
    except ValueError:  # not an event (UnicodeDecodeError is a ValueError): a copy keeps it as it is
        return None
    return event if isinstance(event, dict) else None


def erased_people(values: Iterable[bytes]) -> frozenset[str]:
    """Every person id the `person.erased` events among these record values name: the person erased and the
    ids folded into them."""
    out: set[str] = set()
    for value in values:
        if _ERASED_TYPE.encode() not in value:  # most records: no need to parse them
            continue
        event = _event(value)
        if event is None or event.get("type") != _ERASED_TYPE or not isinstance(event.get("data"), dict):
            continue
        data = event["data"]
        out.update(pid for pid in [data.get("person_id"), *(data.get("merged_person_ids") or [])]
                   if isinstance(pid, str))
    return frozenset(out)


def without_file_number(value: bytes, erased: Collection[str]) -> bytes:
    """A record's value as a copy of the log keeps it once `erased` were erased: an event about one of them
    that carries a structure's file number (`data.partner_ref`) gets `ERASED_FILE_NUMBER` in its place; any
    other value is returned as it is, byte for byte."""
    if not erased or b"partner_ref" not in value:
        return value
    event = _event(value)
    if event is None or not isinstance(event.get("subject"), str) or event["subject"] not in erased:
        return value
    data = event.get("data")
    if not isinstance(data, dict) or data.get("partner_ref") in (None, ERASED_FILE_NUMBER):
        return value
    forgotten = {**event, "data": {**data, "partner_ref": ERASED_FILE_NUMBER}}
    return json.dumps(forgotten, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
