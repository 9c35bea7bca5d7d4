"""Suivi: post-exit check-ins, people at risk, lost and re-engaged, and closed cases."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from contracts.envelope import Envelope, Payload, schema_field, type_field
from contracts.vocabulary import CheckinAnchor, CheckinOutcome, CloseReason, Identifier, LostReason, StructureId


class CheckinDueData(Payload):
    """A post-exit check-in (suivi post-sortie) falls due: the structure should contact the person to learn
    their situation, N months after an exit or a job start (1, 3, 6 and 12 months by default)."""

    checkin_id: Identifier = Field(description="Id of this check-in; checkin_done refers to it.",
                                   examples=["chk-p-7f3a9c2e51-exit-3"])
    structure_id: StructureId = Field(description="The structure that should make the check-in.",
                                      examples=["aldev_cite_emploi"])
    due_on: date = Field(description="The day the check-in is due.", examples=["2025-07-01"])
    months_after: int = Field(ge=1, le=36, description="Months after the anchor event.", examples=[3])
    anchor: CheckinAnchor = Field(description="What the months count from: an exit or a job start.",
                                  examples=["exit"])


class CheckinDoneData(Payload):
    """A structure made a post-exit check-in; if it reached the person, what their situation is."""

    checkin_id: Identifier = Field(description="Id of the check-in that was due.",
                                   examples=["chk-p-7f3a9c2e51-exit-3"])
    structure_id: StructureId = Field(description="The structure that made it.", examples=["aldev_cite_emploi"])
    reached: bool = Field(description="True if the person was reached.", examples=[True])
    situation: CheckinOutcome | None = Field(default=None, description="The person's situation, when reached.",
                                             examples=["in_employment"])

    @model_validator(mode="after")
    def _situation_needs_contact(self) -> CheckinDoneData:
        if self.situation is not None and not self.reached:
            raise ValueError("a situation can only be given when the person was reached")
        return self


class PersonAtRiskData(Payload):
    """The person is about to be lost (perdu de vue) unless `structure_to_act` acts: an early warning."""

    reason: LostReason = Field(description="What puts them at risk.", examples=["referral_expired"])
    since: date = Field(description="Since when nobody demonstrably holds them.", examples=["2025-01-27"])
    structure_to_act: StructureId = Field(description="The structure that must act now.",
                                          examples=["france_travail_angers_centre"])


class PersonLostData(Payload):
    """Nobody holds the person any more (perdu de vue): the failure Ariane exists to prevent. Says who must
    act to find them again."""

    reason: LostReason = Field(description="How they were lost.", examples=["exit_without_next_step"])
    since: date = Field(description="Since when nobody holds them.", examples=["2025-03-31"])
    structure_to_act: StructureId = Field(description="The structure that must find the person again.",
                                          examples=["aldev_cite_emploi"])
    detected_on: date = Field(description="The day the loss was detected.", examples=["2025-05-30"])


class PersonReengagedData(Payload):
    """A person who was lost is held again by a structure."""

    by_structure: StructureId = Field(description="The structure that holds them again.",
                                      examples=["mission_locale_angevine"])
    lost_since: date = Field(description="Since when they had been lost.", examples=["2025-03-31"])
    reengaged_on: date = Field(description="The day they were held again.", examples=["2025-06-12"])


class PersonLossCorrectedData(Payload):
    """An at-risk or lost episode that a late fact disproves: the person was held all along (an answer recorded
    late, dated before the episode began). Not a re-engagement: nobody found the person again, the alert was
    wrong, and the episode no longer counts."""

    reason: LostReason = Field(description="The reason the episode was raised with.", examples=["referral_expired"])
    since: date = Field(description="The `since` of the episode that is withdrawn.", examples=["2026-01-20"])
    was_lost: bool = Field(description="True if person.lost had been emitted, false if only person.at_risk.",
                           examples=[True])
    held_by: StructureId = Field(description="The structure the late fact shows was holding the person.",
                                 examples=["france_travail_angers_centre"])


class CaseClosedData(Payload):
    """The person's case is closed on purpose (lasting employment, moved away, refusal, erasure…): no one needs
    to hold them any more, and they must not be counted as lost."""

    reason: CloseReason = Field(description="Why the case is closed.", examples=["lasting_employment"])


class CheckinDue(Envelope):
    """fr.ariane.followup.checkin_due: a post-exit check-in falls due."""

    short_type: ClassVar[str] = "followup.checkin_due"
    type: Literal["fr.ariane.followup.checkin_due"] = type_field("followup.checkin_due")
    dataschema: str = schema_field("followup.checkin_due")
    data: CheckinDueData


class CheckinDone(Envelope):
    """fr.ariane.followup.checkin_done: a post-exit check-in was made."""

    short_type: ClassVar[str] = "followup.checkin_done"
    type: Literal["fr.ariane.followup.checkin_done"] = type_field("followup.checkin_done")
    dataschema: str = schema_field("followup.checkin_done")
    data: CheckinDoneData


class PersonAtRisk(Envelope):
    """fr.ariane.person.at_risk: the person is about to be lost."""

    short_type: ClassVar[str] = "person.at_risk"
    type: Literal["fr.ariane.person.at_risk"] = type_field("person.at_risk")
    dataschema: str = schema_field("person.at_risk")
    data: PersonAtRiskData


class PersonLost(Envelope):
    """fr.ariane.person.lost: nobody holds the person any more."""

    short_type: ClassVar[str] = "person.lost"
    type: Literal["fr.ariane.person.lost"] = type_field("person.lost")
    dataschema: str = schema_field("person.lost")
    data: PersonLostData


class PersonReengaged(Envelope):
    """fr.ariane.person.reengaged: a lost person is held again."""

    short_type: ClassVar[str] = "person.reengaged"
    type: Literal["fr.ariane.person.reengaged"] = type_field("person.reengaged")
    dataschema: str = schema_field("person.reengaged")
    data: PersonReengagedData


class PersonLossCorrected(Envelope):
    """fr.ariane.person.loss_corrected: an at-risk or lost episode is withdrawn, a late fact disproves it."""

    short_type: ClassVar[str] = "person.loss_corrected"
    type: Literal["fr.ariane.person.loss_corrected"] = type_field("person.loss_corrected")
    dataschema: str = schema_field("person.loss_corrected")
    data: PersonLossCorrectedData


class CaseClosed(Envelope):
    """fr.ariane.case.closed: the person's case is closed on purpose."""

    short_type: ClassVar[str] = "case.closed"
    type: Literal["fr.ariane.case.closed"] = type_field("case.closed")
    dataschema: str = schema_field("case.closed")
    data: CaseClosedData
