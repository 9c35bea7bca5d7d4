"""Which structure an event entitles to see a person's identity, and on what basis. Pure.

A structure may see the identity of the people it registered, and of the people it is asked to act on: a
referral issued to it (a partner's prescription, or one the referral service decided), an alert naming it as
the structure that must act (person.at_risk, person.lost), a check-in it should make (followup.checkin_due).
Intake learns these as the events pass (its own ingress, ariane.referral.v1, ariane.followup.v1) and keeps
them; nothing else grants a structure an identity.
"""

from __future__ import annotations

from contracts.envelope import Envelope
from contracts.followup import CheckinDue, PersonAtRisk, PersonLost
from contracts.identity import DisclosureBasis
from contracts.people import PersonRegistered
from contracts.referrals import ReferralIssued

Entitlement = tuple[str, DisclosureBasis]  # (structure id, basis)


def entitled_by(event: Envelope) -> list[Entitlement]:
    """The structures `event` entitles, each once: none for an event that grants nothing."""
    found: list[Entitlement] = []
    if isinstance(event, PersonRegistered):
        # The sender, and the structure it registered for (a sender may act for another structure).
        found = [(event.source, DisclosureBasis.REGISTERED), (event.data.structure_id, DisclosureBasis.REGISTERED)]
    elif isinstance(event, ReferralIssued):
        found = [(event.data.to_structure, DisclosureBasis.ASKED_TO_ACT)]
    elif isinstance(event, PersonAtRisk | PersonLost):
        found = [(event.data.structure_to_act, DisclosureBasis.ASKED_TO_ACT)]
    elif isinstance(event, CheckinDue):
        found = [(event.data.structure_id, DisclosureBasis.ASKED_TO_ACT)]
    return list(dict.fromkeys(found))
