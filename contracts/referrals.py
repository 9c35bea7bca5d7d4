"""Referrals (orientation, prescription): one structure sends a person to another, and what becomes of it.

Lifecycle: issued → acknowledged → accepted | refused | expired; a first appointment held closes it.
Partners send issued (prescriptions), acknowledged, accepted, refused and first_appointment_held; the referral
service sends issued (orientations decided by a rule), reminder_sent and expired.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from contracts.envelope import Envelope, Payload, schema_field, type_field
from contracts.vocabulary import (CounsellorRef, DeadlineKind, Identifier, RefusalReason, ReferralKind, ShortText,
                                 StructureId)

def _referral_id() -> Any:
    return Field(description="Id of the referral, given when it was issued.", examples=["ref-2025-000871"])


class ReferralIssuedData(Payload):
    """A structure (or an orientation rule) sends the person to another structure or dispositif, which must
    accept or refuse by `due_date`."""

    referral_id: Identifier = Field(description="Id of this referral, chosen by the issuer; every later referral "
                                    "event refers to it.", examples=["ref-2025-000871"])
    kind: ReferralKind = Field(description="orientation (rule-based) or prescription (a partner's decision).",
                               examples=["prescription"])
    from_structure: StructureId = Field(description="The structure sending the person.",
                                        examples=["france_travail_angers_centre"])
    to_structure: StructureId = Field(description="The structure that must take the person up.",
                                      examples=["mission_locale_angevine"])
    dispositif_id: Identifier | None = Field(default=None, description="The dispositif prescribed, if any.",
                                             examples=["aldev_cite_emploi"])
    reason: ShortText = Field(description="Why, in a sentence; no health details, names or contact data.",
                              examples=["Moins de 26 ans, accompagnement CEJ proposé"])
    rule: str | None = Field(default=None, min_length=1, max_length=64,
                             description="The orientation rule that produced it; absent for partner prescriptions.",
                             examples=["organisme_referent.under_26"])
    due_date: date = Field(description="Date by which the receiving structure must accept or refuse.",
                           examples=["2025-01-27"])

    @model_validator(mode="after")
    def _not_to_itself(self) -> ReferralIssuedData:
        if self.from_structure == self.to_structure and self.dispositif_id is None:
            raise ValueError("a referral goes to another structure or to a dispositif")
        return self


class ReferralAcknowledgedData(Payload):
    """The receiving structure has seen the referral (it is in its queue); it has not decided yet."""

    referral_id: Identifier = _referral_id()
    structure_id: StructureId = Field(description="The receiving structure.", examples=["mission_locale_angevine"])


class ReferralAcceptedData(Payload):
    """The receiving structure takes the person up; it now holds them."""

    referral_id: Identifier = _referral_id()
    structure_id: StructureId = Field(description="The receiving structure.", examples=["mission_locale_angevine"])
    first_appointment_on: date | None = Field(default=None, description="Date of the first appointment, if set.",
                                              examples=["2025-01-30"])
    counsellor_ref: CounsellorRef | None = Field(
        default=None, description="The structure's pseudonymous reference for the counsellor who takes the "
        "person on (never a name); lets a counsellor's caseload be handed over.", examples=["ml-c-0042"])


class ReferralRefusedData(Payload):
    """The receiving structure declines the referral, with a reason from a fixed list; the issuer still holds
    the person and must find another way."""

    referral_id: Identifier = _referral_id()
    structure_id: StructureId = Field(description="The refusing structure.", examples=["plie_angers"])
    reason_code: RefusalReason = Field(description="Why, from the fixed list.", examples=["not_in_audience"])
    comment: ShortText | None = Field(default=None, description="A short explanation; no personal details.",
                                      examples=["Hors périmètre PLIE : résidence hors agglomération"])


class ReferralExpiredData(Payload):
    """A referral deadline passed with nothing done: the person may be falling between two structures.
    Decided by the referral service on a clock tick."""

    referral_id: Identifier = _referral_id()
    structure_id: StructureId = Field(description="The structure that missed the deadline.",
                                      examples=["mission_locale_angevine"])
    deadline: DeadlineKind = Field(description="Which deadline passed.", examples=["accept"])
    due_date: date = Field(description="The date that passed.", examples=["2025-01-27"])


class ReferralFirstAppointmentHeldData(Payload):
    """The person met the receiving structure for the first time: the referral is fulfilled and closed."""

    referral_id: Identifier = _referral_id()
    structure_id: StructureId = Field(description="The structure that held the appointment.",
                                      examples=["mission_locale_angevine"])


class ReferralReminderSentData(Payload):
    """The referral service reminded a structure that a referral deadline is near."""

    referral_id: Identifier = _referral_id()
    structure_id: StructureId = Field(description="The structure reminded.", examples=["mission_locale_angevine"])
    deadline: DeadlineKind = Field(description="Which deadline is near.", examples=["accept"])
    due_date: date = Field(description="When that deadline falls.", examples=["2025-01-27"])


class ReferralWithdrawnData(Payload):
    """A referral Ariane issued is no longer needed and is called off: a late answer showed the person is held
    (the re-orientation or escalation its expiry caused), or the person's case was closed. The receiving structure
    has nothing more to do; the referral is counted as withdrawn, never as expired."""

    referral_id: Identifier = _referral_id()
    structure_id: StructureId = Field(description="The structure the referral was sent to.",
                                      examples=["departement_49"])
    reason_code: Literal["answered", "case_closed"] = Field(
        description="answered: a late answer to an earlier referral made it unnecessary; case_closed: the "
        "person's case was closed.", examples=["answered"])
    reason: ShortText = Field(description="Why, in a sentence.",
                              examples=["La Mission locale a accepté le 19 janvier"])


class ReferralIssued(Envelope):
    """fr.ariane.referral.issued: a person was referred to another structure or dispositif."""

    short_type: ClassVar[str] = "referral.issued"
    type: Literal["fr.ariane.referral.issued"] = type_field("referral.issued")
    dataschema: str = schema_field("referral.issued")
    data: ReferralIssuedData


class ReferralAcknowledged(Envelope):
    """fr.ariane.referral.acknowledged: the receiving structure has seen the referral."""

    short_type: ClassVar[str] = "referral.acknowledged"
    type: Literal["fr.ariane.referral.acknowledged"] = type_field("referral.acknowledged")
    dataschema: str = schema_field("referral.acknowledged")
    data: ReferralAcknowledgedData


class ReferralAccepted(Envelope):
    """fr.ariane.referral.accepted: the receiving structure takes the person up."""

    short_type: ClassVar[str] = "referral.accepted"
    type: Literal["fr.ariane.referral.accepted"] = type_field("referral.accepted")
    dataschema: str = schema_field("referral.accepted")
    data: ReferralAcceptedData


class ReferralRefused(Envelope):
    """fr.ariane.referral.refused: the receiving structure declined the referral."""

    short_type: ClassVar[str] = "referral.refused"
    type: Literal["fr.ariane.referral.refused"] = type_field("referral.refused")
    dataschema: str = schema_field("referral.refused")
    data: ReferralRefusedData


class ReferralExpired(Envelope):
    """fr.ariane.referral.expired: a referral deadline passed unmet."""

    short_type: ClassVar[str] = "referral.expired"
    type: Literal["fr.ariane.referral.expired"] = type_field("referral.expired")
    dataschema: str = schema_field("referral.expired")
    data: ReferralExpiredData


class ReferralFirstAppointmentHeld(Envelope):
    """fr.ariane.referral.first_appointment_held: the first appointment took place; the referral is closed."""

    short_type: ClassVar[str] = "referral.first_appointment_held"
    type: Literal["fr.ariane.referral.first_appointment_held"] = type_field("referral.first_appointment_held")
    dataschema: str = schema_field("referral.first_appointment_held")
    data: ReferralFirstAppointmentHeldData


class ReferralReminderSent(Envelope):
    """fr.ariane.referral.reminder_sent: a structure was reminded of a near referral deadline."""

    short_type: ClassVar[str] = "referral.reminder_sent"
    type: Literal["fr.ariane.referral.reminder_sent"] = type_field("referral.reminder_sent")
    dataschema: str = schema_field("referral.reminder_sent")
    data: ReferralReminderSentData


class ReferralWithdrawn(Envelope):
    """fr.ariane.referral.withdrawn: a referral is called off (no longer needed)."""

    short_type: ClassVar[str] = "referral.withdrawn"
    type: Literal["fr.ariane.referral.withdrawn"] = type_field("referral.withdrawn")
    dataschema: str = schema_field("referral.withdrawn")
    data: ReferralWithdrawnData
