"""Erasure, pure: who may erase a person, the person.erased event, the id a person registered again after an
erasure gets, and when the retention period is over.

- Who may erase is who may see the identity (`disclosure.basis_for`): a structure's keys for the people it
  registered or is asked to act on, the coordinator for anyone, an auditor never (auditors list erasures).
- A person's id is derived from their identity (keyed HMAC of the NIR, or of names + birth date): registered
  again after an erasure, the same identity would give the erased id back and tie the new story to the old
  one. The new person gets the erased id's successor instead, derived from it with the same key, so that a
  replay of the same registration gives the same new id.
- A partner chooses its events' ids, and an id may hold its file number (`CAP-2025-0042-reg`). The record of
  the events accepted about an erased person (`intake_event`, kept so that a resend is still a duplicate) and
  the cause of their reviews keep keyed digests of those ids instead (`forgotten_*`): the same (source, id)
  sent again still finds its row, and nobody without the territory key can tell which id it was.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from contracts.erasure import ErasureReason, PersonErased, PersonErasedData
from services.intake.domain import disclosure
from services.intake.domain.disclosure import Caller, NotEntitled
from services.intake.domain.identity import PERSON_ID_PREFIX
from services.intake.domain.keyed_digest import hmac_sha256_hex
from services.intake.domain.publication import SERVICE_SOURCE

__all__ = ["CLOCK", "REVIEW_NOTE", "NotEntitled", "erased_event", "forgotten_content", "forgotten_event_id",
           "forgotten_published_id", "may_erase", "retention_over", "successor_id"]

CLOCK = "ariane_clock"  # who asks an erasure when the retention period is over (requested_by, key and role)
REVIEW_NOTE = "une des deux personnes a été effacée"  # said in a review an erasure closes (published: never who)


def may_erase(caller: Caller, entitlements: Collection[str]) -> None:
    """Nothing if `caller` may erase a person for whom its structure holds `entitlements`; NotEntitled (saying
    why, never whether the person exists) otherwise."""
    if caller.role == "auditor":
        raise NotEntitled("an auditor key lists the erasures (GET /v1/erasures); it never erases anyone")
    disclosure.basis_for(caller, entitlements)


def successor_id(erased_id: str, secret: bytes) -> str:
    """The id a person registered after `erased_id` was erased gets in its place (deterministic, unlinkable
    without the territory key, never equal to `erased_id`)."""
    digest = hmac_sha256_hex(secret, f"after-erasure\x1f{erased_id}".encode())
    return PERSON_ID_PREFIX + digest[:32]


def erased_event(erasure_id: str, person_id: str, merged_ids: Collection[str], reason: ErasureReason,
                 requested_by: str, when: datetime, erased_on: date) -> PersonErased:
    """person.erased, keyed by the person: who, why, who asked (a structure id), when; never an identity."""
    return PersonErased(
        id=erasure_id, source=SERVICE_SOURCE, subject=person_id, time=when, recordedtime=when,
        data=PersonErasedData(erasure_id=erasure_id, person_id=person_id, erased_on=erased_on, reason=reason,
                              requested_by=requested_by,
                              merged_person_ids=sorted(pid for pid in merged_ids if pid != person_id)))


def retention_over(closed_on: date, today: date, retention_days: int) -> bool:
    """A person closed on `closed_on` is kept `retention_days` days, then erased by the clock."""
    return today >= closed_on + timedelta(days=retention_days)


def _keyed(secret: bytes, purpose: str, *parts: str) -> str:
    return hmac_sha256_hex(secret, "\x1f".join((purpose, *parts)).encode())


FORGOTTEN_PREFIX = "erased:"  # 7 + 64 characters: fits an event id (128) and a published id (160)


def forgotten_event_id(secret: bytes, source: str, event_id: str) -> str:
    """What an erased person's accepted event is recorded under instead of the partner's id: keyed by the
    source too, so (source, id) stays unique and the same event sent again finds it."""
    return FORGOTTEN_PREFIX + _keyed(secret, "erased-event-id", source, event_id)


def forgotten_published_id(secret: bytes, published_id: str) -> str:
    """The id it was published under, as recorded after the erasure: another structure's event with that id
    is still published under `<source>:<id>`, as before."""
    return FORGOTTEN_PREFIX + _keyed(secret, "erased-published-id", published_id)


def forgotten_content(secret: bytes, content_sha256: str) -> str:
    """The content digest (of an event that held the identity), keyed: a resend is still told a duplicate
    from a conflict, and a guessed event can no longer be checked against the row."""
    return _keyed(secret, "erased-content", content_sha256)
