"""People: registration, profile, identity merges and contacts, as partners (and intake) report them.

IDENTITY WARNING. `Identity` (NIR, names, birth date, email, phone) exists ONLY so partners can send it to
intake, over HTTP or on their own `ariane.inbound.v1.<structure id>`. Intake computes the pseudonymous person_id from it, stores it in
the identity vault, and REMOVES it (`without_identity`) before anything is written to any other topic. No
service ever emits an event that carries an identity; `carries_identity` lets every producer refuse to.
"""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from contracts.envelope import Envelope, Payload, schema_field, type_field
from contracts.vocabulary import (
    ContactChannel,
    CommuneInsee,
    EducationLevel,
    FtCategory,
    MergeRule,
    PersonId,
    StructureId,
)

NIR_PATTERN = r"^[1-8][0-9]{4}(?:2[AB]|[0-9]{2})[0-9]{8}$"


class Identity(Payload):
    """Who the person is, in clear. PARTNER → INTAKE ONLY: never on Kafka past intake, never in a service.

    Intake derives the person_id from the NIR (keyed HMAC), or from the normalised last name, first names and
    birth date when there is no NIR, keeps the block in its identity vault, and strips it from the event.
    """

    nir: str | None = Field(
        default=None,
        pattern=NIR_PATTERN,
        description="Numéro d'inscription au répertoire (social security number), 15 characters with its key; "
        "spaces are removed.",
        examples=["199054900712345"],
    )
    last_name: str | None = Field(
        default=None, min_length=1, max_length=100, description="Last name (nom de naissance or d'usage).",
        examples=["Martin"],
    )
    first_names: str | None = Field(
        default=None, min_length=1, max_length=150, description="First names, space separated.",
        examples=["Léa Marie"],
    )
    birth_date: date | None = Field(default=None, description="Date of birth.", examples=["1999-05-14"])
    email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="E-mail address.",
        examples=["lea.martin@example.org"],
    )
    phone: str | None = Field(
        default=None, max_length=20, pattern=r"^\+?[0-9 .-]{6,20}$", description="Phone number.",
        examples=["06 12 34 56 78"],
    )

    @field_validator("nir", mode="before")
    @classmethod
    def _compact_nir(cls, value: object) -> object:
        return re.sub(r"\s+", "", value).upper() if isinstance(value, str) else value

    @property
    def can_pseudonymise(self) -> bool:
        """True when intake can derive a person_id: a NIR, or last name + first names + birth date."""
        return self.nir is not None or None not in (self.last_name, self.first_names, self.birth_date)


class PersonRegisteredData(Payload):
    """A structure has registered a person (inscription) and describes their situation at that date.

    The profile drives the orientation rules (organisme référent: Mission locale under 26, Cap emploi with
    RQTH, the Département for RSA recipients, France Travail otherwise) and the territory's statistics.
    """

    structure_id: StructureId = Field(
        description="The structure that registered the person.", examples=["france_travail_angers_centre"]
    )
    registered_on: date = Field(description="Date of registration with that structure.", examples=["2025-01-13"])
    birth_year: int = Field(ge=1900, le=2100, description="Year of birth (no full date outside intake).",
                            examples=[1999])
    commune_insee: CommuneInsee = Field(
        description="INSEE code of the commune of residence.", examples=["49007", "49353"]
    )
    qpv_resident: bool = Field(description="Lives in a quartier prioritaire de la politique de la ville.",
                               examples=[True])
    rqth: bool = Field(description="Has a recognised disability (RQTH).", examples=[False])
    rsa: bool = Field(description="Receives the revenu de solidarité active (RSA).", examples=[False])
    single_parent: bool = Field(description="Single parent (parent isolé).", examples=[False])
    education_level: EducationLevel = Field(description="Highest level of qualification.", examples=["4"])
    ft_category: FtCategory | None = Field(
        default=None, description="France Travail registration category, when registered there.", examples=["A"]
    )
    partner_ref: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="PARTNER → INTAKE ONLY. The registering structure's own file number for the person (not an "
        "identity). Intake keeps it (the structure's pages read it back from intake) and publishes none since "
        "erasure must reach it: older records of ariane.intake.v1 may still carry one.",
        examples=["ML49-2025-00412"],
    )
    identity: Identity | None = Field(
        default=None,
        description="PARTNER → INTAKE ONLY. The person's identity in clear; intake removes it before publishing. "
        "Always absent on Kafka topics other than the partners' own ariane.inbound.v1.<structure id>.",
    )


class PersonProfileUpdatedData(Payload):
    """A structure reports a change in a person's situation; only the fields present have changed."""

    structure_id: StructureId = Field(
        description="The structure reporting the change.", examples=["mission_locale_angevine"]
    )
    birth_year: int | None = Field(default=None, ge=1900, le=2100, description="Corrected year of birth.",
                                   examples=[1999])
    commune_insee: CommuneInsee | None = Field(
        default=None, description="INSEE code of the new commune of residence.", examples=["49353"]
    )
    qpv_resident: bool | None = Field(
        default=None, description="Lives in a quartier prioritaire de la politique de la ville.", examples=[True]
    )
    rqth: bool | None = Field(default=None, description="Has a recognised disability (RQTH).", examples=[True])
    rsa: bool | None = Field(default=None, description="Receives the RSA.", examples=[True])
    single_parent: bool | None = Field(default=None, description="Single parent (parent isolé).", examples=[True])
    education_level: EducationLevel | None = Field(
        default=None, description="Highest level of qualification.", examples=["3"]
    )
    ft_category: FtCategory | None = Field(
        default=None, description="France Travail registration category.", examples=["B"]
    )
    partner_ref: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="PARTNER → INTAKE ONLY. The structure's own file number for the person. Intake keeps it and "
        "publishes none since erasure must reach it: older records of ariane.intake.v1 may still carry one.",
        examples=["ML49-2025-00412"],
    )
    identity: Identity | None = Field(
        default=None,
        description="PARTNER → INTAKE ONLY. Changed identity or contact details; intake stores them in the vault "
        "and removes them before publishing.",
    )

    @model_validator(mode="after")
    def _something_changed(self) -> PersonProfileUpdatedData:
        if not self.changed_fields():
            raise ValueError("a profile update must carry at least one changed field")
        return self

    def changed_fields(self, *, include_identity: bool = True) -> set[str]:
        """Names of the fields this update changes (null means unchanged)."""
        skip = {"structure_id"} | (set() if include_identity else {"identity"})
        return {name for name in type(self).model_fields if name not in skip and getattr(self, name) is not None}


class PersonIdentitiesMergedData(Payload):
    """Intake found that two person_ids are the same person: every fact about `merged_person_id` now belongs to
    `kept_person_id`. The event's subject is the kept person_id."""

    kept_person_id: PersonId = Field(description="The person_id that remains.", examples=["p-7f3a9c2e51"])
    merged_person_id: PersonId = Field(description="The person_id that is folded into the kept one.",
                                       examples=["p-0b84d1aa97"])
    rule: MergeRule = Field(description="Why intake decided they are the same person.", examples=["same_nir"])

    @model_validator(mode="after")
    def _two_people(self) -> PersonIdentitiesMergedData:
        if self.kept_person_id == self.merged_person_id:
            raise ValueError("kept_person_id and merged_person_id must differ")
        return self


class ContactRecordedData(Payload):
    """A structure tried to reach a person (or met them); `reached` says whether it worked.

    Contacts are what keeps a person 'held': no contact for too long makes them at risk, then lost."""

    structure_id: StructureId = Field(description="The structure that made the contact.",
                                      examples=["mission_locale_angevine"])
    channel: ContactChannel = Field(description="How the contact was made.", examples=["phone"])
    reached: bool = Field(description="True if the person was actually reached.", examples=[True])


class PersonRegistered(Envelope):
    """fr.ariane.person.registered: a structure registered a person."""

    short_type: ClassVar[str] = "person.registered"
    type: Literal["fr.ariane.person.registered"] = type_field("person.registered")
    dataschema: str = schema_field("person.registered")
    data: PersonRegisteredData

    def without_identity(self) -> PersonRegistered:
        """The same event with the identity block removed (what intake publishes)."""
        return self.model_copy(update={"data": self.data.model_copy(update={"identity": None})})


class PersonProfileUpdated(Envelope):
    """fr.ariane.person.profile_updated: a person's situation changed."""

    short_type: ClassVar[str] = "person.profile_updated"
    type: Literal["fr.ariane.person.profile_updated"] = type_field("person.profile_updated")
    dataschema: str = schema_field("person.profile_updated")
    data: PersonProfileUpdatedData

    def without_identity(self) -> PersonProfileUpdated | None:
        """The same event with the identity block removed (what intake publishes), or None when the update
        changed only the identity: then intake updates its vault and publishes nothing."""
        if not self.data.changed_fields(include_identity=False):
            return None
        return self.model_copy(update={"data": self.data.model_copy(update={"identity": None})})


class PersonIdentitiesMerged(Envelope):
    """fr.ariane.person.identities_merged: two person_ids turned out to be one person (emitted by intake)."""

    short_type: ClassVar[str] = "person.identities_merged"
    type: Literal["fr.ariane.person.identities_merged"] = type_field("person.identities_merged")
    dataschema: str = schema_field("person.identities_merged")
    data: PersonIdentitiesMergedData


class ContactRecorded(Envelope):
    """fr.ariane.contact.recorded: a structure contacted, or tried to contact, a person."""

    short_type: ClassVar[str] = "contact.recorded"
    type: Literal["fr.ariane.contact.recorded"] = type_field("contact.recorded")
    dataschema: str = schema_field("contact.recorded")
    data: ContactRecordedData


def carries_identity(event: Envelope) -> bool:
    """True if the event holds an identity block: allowed only from partners to intake."""
    return getattr(event.data, "identity", None) is not None


def without_identity(event: Envelope) -> Envelope | None:
    """The event without its identity block (intake calls this before publishing); None when nothing is left
    to publish (a profile update that changed only the identity)."""
    if isinstance(event, (PersonRegistered, PersonProfileUpdated)):
        return event.without_identity()
    return event
