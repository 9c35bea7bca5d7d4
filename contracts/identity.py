"""Identity review and disclosure: what intake tells every service about identities without showing one.

- `identity.review_opened`: two person_ids may be one person (same name and birth date, no NIR to be sure).
  The coordinator decides; until then the pair must never give two alerts.
- `identity.review_decided`: the coordinator's decision. "same_person" is followed by
  `person.identities_merged` (rule `manual`); "different_people" closes the review for good.
- `identity.disclosed`: someone saw a person's identity. Every disclosure is one of these, so an auditor can
  list who saw whom, why and when. None of them carries an identity.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from contracts.envelope import Envelope, Payload, schema_field, type_field
from contracts.vocabulary import Identifier, PersonId, ShortText, StructureId


class MatchedField(StrEnum):
    """An identity field two records share (named, never shown)."""

    LAST_NAME = "last_name"
    FIRST_NAMES = "first_names"
    BIRTH_DATE = "birth_date"
    EMAIL = "email"
    PHONE = "phone"


class ReviewDecision(StrEnum):
    SAME_PERSON = "same_person"
    DIFFERENT_PEOPLE = "different_people"


class DisclosureBasis(StrEnum):
    """Why the identity could be shown: the structure holds or registered the person, it is asked to act on
    them (a referral to it, a line on its worklist), or the coordinator revealed it with a stated reason."""

    REGISTERED = "registered"
    ASKED_TO_ACT = "asked_to_act"
    COORDINATOR_REVEAL = "coordinator_reveal"
    IDENTITY_REVIEW = "identity_review"


class IdentityReviewOpenedData(Payload):
    """Two person_ids may be the same person; the coordinator is asked to decide."""

    review_id: Identifier = Field(description="Id of the review; the decision refers to it.",
                                  examples=["rev-0b84d1aa97-7f3a9c2e51"])
    person_id: PersonId = Field(description="The newer of the two ids (the event's subject).",
                                examples=["p-0b84d1aa97"])
    other_person_id: PersonId = Field(description="The id it may be the same person as.", examples=["p-7f3a9c2e51"])
    # Bounded like every list a partner sends (intake alone emits this type; contracts/README.md, "Compatibility").
    matched: list[MatchedField] = Field(min_length=1, max_length=len(MatchedField),
                                        description="The identity fields both records share.",
                                        examples=[["last_name", "first_names", "birth_date"]])
    missing: list[Annotated[str, StringConstraints(max_length=32)]] = Field(
        default_factory=list, max_length=8,
        description="What would have settled it, missing on either record (e.g. nir).", examples=[["nir"]])

    @model_validator(mode="after")
    def _two_people(self) -> IdentityReviewOpenedData:
        if self.person_id == self.other_person_id:
            raise ValueError("person_id and other_person_id must differ")
        return self


class IdentityReviewDecidedData(Payload):
    """The coordinator decided a review. "same_person" is followed by person.identities_merged."""

    review_id: Identifier = Field(description="The review decided.", examples=["rev-0b84d1aa97-7f3a9c2e51"])
    person_id: PersonId = Field(description="As in the review (the event's subject).", examples=["p-0b84d1aa97"])
    other_person_id: PersonId = Field(description="As in the review.", examples=["p-7f3a9c2e51"])
    decision: ReviewDecision = Field(description="Same person, or different people.", examples=["different_people"])
    decided_by: StructureId = Field(description="Who decided (the territory coordinator).",
                                    examples=["coordination_territoriale"])
    note: ShortText | None = Field(default=None, description="Why, in a few words; never an identity.",
                                   examples=["dates de naissance identiques, adresses différentes"])


class IdentityDisclosedData(Payload):
    """Someone was shown a person's identity. Says who, on what basis and why; never the identity itself."""

    disclosure_id: Identifier = Field(description="Id of this disclosure.", examples=["dis-3c1e0a9b7d"])
    person_id: PersonId = Field(description="Whose identity was shown (the event's subject).",
                                examples=["p-7f3a9c2e51"])
    disclosed_to: StructureId = Field(description="The structure of the person who saw it.",
                                      examples=["mission_locale_angevine"])
    key_id: Identifier = Field(description="The access key used (pseudonymous; says which user or system).",
                               examples=["k3f9a0c21"])
    basis: DisclosureBasis = Field(description="What entitled them.", examples=["asked_to_act"])
    reason: ShortText = Field(description="The reason stated (required for a coordinator's reveal); never an "
                              "identity.", examples=["rappeler la personne perdue de vue"])
    disclosed_at: datetime = Field(description="When it was shown.", examples=["2026-03-02T09:41:00+01:00"])


class IdentityReviewOpened(Envelope):
    """fr.ariane.identity.review_opened: two person_ids may be one person (emitted by intake)."""

    short_type: ClassVar[str] = "identity.review_opened"
    type: Literal["fr.ariane.identity.review_opened"] = type_field("identity.review_opened")
    dataschema: str = schema_field("identity.review_opened")
    data: IdentityReviewOpenedData


class IdentityReviewDecided(Envelope):
    """fr.ariane.identity.review_decided: the coordinator decided an identity review (emitted by intake)."""

    short_type: ClassVar[str] = "identity.review_decided"
    type: Literal["fr.ariane.identity.review_decided"] = type_field("identity.review_decided")
    dataschema: str = schema_field("identity.review_decided")
    data: IdentityReviewDecidedData


class IdentityDisclosed(Envelope):
    """fr.ariane.identity.disclosed: a person's identity was shown to someone (emitted by intake)."""

    short_type: ClassVar[str] = "identity.disclosed"
    type: Literal["fr.ariane.identity.disclosed"] = type_field("identity.disclosed")
    dataschema: str = schema_field("identity.disclosed")
    data: IdentityDisclosedData
