"""Controlled re-identification, pure: who may be shown a person's identity, on what basis, with what reason,
and the identity.disclosed event that says so (never the identity itself).

- A structure's keys (partner, counsellor) see the people it registered (`registered`) or is asked to act on
  (`asked_to_act`), and nobody else: the refusal is the same whether the person exists or not.
- The territory's coordinator may see anyone, with a stated reason (`coordinator_reveal`), and sees both
  people of an identity review to decide it (`identity_review`).
- An auditor lists who saw whom; it never sees an identity.
Every reason is published: it must hold no personal data (no NIR, e-mail, phone, IBAN, nor the person's names).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from contracts.identity import DisclosureBasis, IdentityDisclosed, IdentityDisclosedData
from services.intake.domain import pii
from services.intake.domain.publication import SERVICE_SOURCE

STRUCTURE_ROLES = frozenset({"partner", "counsellor"})
REASON_MIN, REASON_MAX = 3, 500


@dataclass(frozen=True)
class Caller:
    """Who asks, as the credentials book says: the key, its role, its structure (the coordinator's own id for
    the coordinator)."""

    key_id: str
    role: str
    structure: str


class NotEntitled(Exception):
    """The caller may not see this identity; the message says why without saying whether the person exists."""


def basis_for(caller: Caller, entitlements: Collection[str]) -> DisclosureBasis:
    """On what basis `caller` may see the identity of a person for whom its structure holds `entitlements`
    (the bases intake recorded for that structure and person); NotEntitled otherwise."""
    if caller.role == "coordinator":
        return DisclosureBasis.COORDINATOR_REVEAL
    if caller.role == "auditor":
        raise NotEntitled("an auditor key lists the disclosures (GET /v1/disclosures); it never sees an identity")
    if caller.role not in STRUCTURE_ROLES:
        raise NotEntitled(f"a {caller.role} key may not see an identity")
    for basis in (DisclosureBasis.REGISTERED, DisclosureBasis.ASKED_TO_ACT):
        if basis.value in entitlements:
            return basis
    raise NotEntitled(f"{caller.structure} neither registered this person nor was asked to act on them: only "
                      "the coordinator may reveal their identity")


def reason_problem(reason: str, names: Iterable[str] = ()) -> str | None:
    """Why a stated reason cannot be published, or None. It is published with the disclosure: it must say
    why, never who (`names` are the person's name tokens, pii.name_tokens)."""
    text = reason.strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        return f"a reason of {REASON_MIN} to {REASON_MAX} characters is required"
    kinds = pii.kinds_in(text, names)
    if kinds:
        return f"the reason is published with the disclosure and must hold no personal data (found: " \
               f"{', '.join(kinds)})"
    return None


def disclosed_event(disclosure_id: str, person_id: str, caller: Caller, basis: DisclosureBasis, reason: str,
                    when: datetime) -> IdentityDisclosed:
    """identity.disclosed: who (structure and key), whom, on what basis, why, when; keyed by the person."""
    return IdentityDisclosed(
        id=disclosure_id, source=SERVICE_SOURCE, subject=person_id, time=when, recordedtime=when,
        data=IdentityDisclosedData(disclosure_id=disclosure_id, person_id=person_id, disclosed_to=caller.structure,
                                   key_id=caller.key_id, basis=basis, reason=reason.strip(), disclosed_at=when))
