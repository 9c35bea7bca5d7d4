"""The shared vocabulary of the contracts: enums every producer and consumer agrees on.

Values are stable wire strings. French words are kept where they are the domain's own words (frein
périphérique kinds, IAE exit classes); adding a value is a compatible change, removing one is not.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

# Shared value types. Constraints only: each field adds its own description.

#: A structure id of the territory file: lower-case snake case, e.g. "mission_locale_angevine".
StructureId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]*$", min_length=2, max_length=64)]
#: An opaque id chosen by the emitter (referral, barrier, job, training, check-in, dispositif).
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", min_length=1, max_length=128)]
#: A pseudonymous person id (keyed HMAC computed by intake).
PersonId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
#: A code officiel géographique (INSEE) of a commune: 5 characters, 2A/2B for Corsica.
CommuneInsee = Annotated[str, StringConstraints(pattern=r"^(?:[0-9]{5}|2[AB][0-9]{3})$")]
#: A structure's pseudonymous reference for one of its counsellors (never a name): who in the structure holds
#: a person, so a counsellor's caseload can be handed over.
CounsellorRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", min_length=1, max_length=64)]
#: A short free text; never put names, health details or contact data in it.
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class StructureKind(StrEnum):
    """The kind of a structure that can hold a person (the territory file gives each structure one)."""

    FRANCE_TRAVAIL = "france_travail"
    MISSION_LOCALE = "mission_locale"
    CAP_EMPLOI = "cap_emploi"
    PLIE = "plie"
    DEPARTEMENT = "departement"
    SIAE = "siae"
    CITE_EMPLOI = "cite_emploi"
    ASSOCIATION = "association"
    EMPLOYER = "employer"
    OTHER = "other"


class BarrierKind(StrEnum):
    """A frein périphérique: what, besides the job search itself, keeps a person from employment."""

    MOBILITE = "mobilite"
    GARDE_ENFANT = "garde_enfant"
    LOGEMENT = "logement"
    SAVOIRS_DE_BASE = "savoirs_de_base"
    SANTE = "sante"
    NUMERIQUE = "numerique"
    PRECARITE_FINANCIERE = "precarite_financiere"
    DISCRIMINATION = "discrimination"


class ChildcareSolution(StrEnum):
    """The childcare a lifted garde_enfant barrier found, as the Par'Emploi report counts it: a temporary or a
    permanent place (crèche, halte-garderie, accueil périscolaire), or a place with an assistante maternelle."""

    ACCUEIL_TEMPORAIRE = "accueil_temporaire"
    ACCUEIL_PERMANENT = "accueil_permanent"
    ASSISTANTE_MATERNELLE = "assistante_maternelle"


class ImpactLevel(StrEnum):
    """How much a barrier weighs on the return to employment, as assessed by the structure."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ExitClass(StrEnum):
    """The class of an exit from a dispositif, as in IAE reporting.

    emploi_durable: CDI, CDD or interim of 6 months or more, business creation;
    emploi_transition: job under 6 months, contrat aidé; sortie_positive: qualifying training,
    another SIAE; autre: none of these.
    """

    EMPLOI_DURABLE = "emploi_durable"
    EMPLOI_TRANSITION = "emploi_transition"
    SORTIE_POSITIVE = "sortie_positive"
    AUTRE = "autre"


class ContractType(StrEnum):
    """The employment contract of a job: CDI, CDD, interim, contrat aidé, alternance, or business creation."""

    CDI = "cdi"
    CDD = "cdd"
    INTERIM = "interim"
    CONTRAT_AIDE = "contrat_aide"
    ALTERNANCE = "alternance"
    CREATION = "creation"


class RefusalReason(StrEnum):
    """Why a structure refused a referral; a fixed list so refusals can be counted and acted upon."""

    NOT_IN_AUDIENCE = "not_in_audience"
    NO_CAPACITY = "no_capacity"
    PERSON_DECLINED = "person_declined"
    UNREACHABLE = "unreachable"
    DUPLICATE = "duplicate"
    MOVED_AWAY = "moved_away"
    OTHER = "other"


class ContactChannel(StrEnum):
    """How a structure tried to reach a person."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    VIDEO = "video"
    LETTER = "letter"


class EducationLevel(StrEnum):
    """French level of qualification (nomenclature des niveaux de diplôme).

    infra_3: no diploma; 3: CAP, BEP; 4: baccalauréat; 5: bac+2 (BTS, DUT); 6: licence, bachelor;
    7: master; 8: doctorate.
    """

    INFRA_3 = "infra_3"
    LEVEL_3 = "3"
    LEVEL_4 = "4"
    LEVEL_5 = "5"
    LEVEL_6 = "6"
    LEVEL_7 = "7"
    LEVEL_8 = "8"


class FtCategory(StrEnum):
    """France Travail registration category (A: no activity and searching; B, C: reduced activity; D, E: not
    immediately available)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class LostReason(StrEnum):
    """Why nobody holds a person any more (perdu de vue), or is about to."""

    REFERRAL_EXPIRED = "referral_expired"
    EXIT_WITHOUT_NEXT_STEP = "exit_without_next_step"
    NO_CONTACT = "no_contact"
    JOB_ENDED_UNHELD = "job_ended_unheld"
    CHECKIN_MISSED = "checkin_missed"


class CloseReason(StrEnum):
    """Why a person's case is closed: the thread ends here on purpose, not by loss."""

    LASTING_EMPLOYMENT = "lasting_employment"
    MOVED_AWAY = "moved_away"
    REFUSED_SUPPORT = "refused_support"
    ERASURE = "erasure"
    INACTIVITY = "inactivity"
    DECEASED = "deceased"
    MERGED = "merged"


class CheckinOutcome(StrEnum):
    """The situation found at a post-exit check-in (suivi post-sortie), when the person was reached."""

    IN_EMPLOYMENT = "in_employment"
    IN_TRAINING = "in_training"
    IN_DISPOSITIF = "in_dispositif"
    SEARCHING = "searching"
    INACTIVE = "inactive"
    MOVED_AWAY = "moved_away"


class ReferralKind(StrEnum):
    """orientation: decided by the orientation rules (e.g. organisme référent); prescription: a partner sends a
    person to a dispositif or another structure."""

    ORIENTATION = "orientation"
    PRESCRIPTION = "prescription"


class DeadlineKind(StrEnum):
    """The deadlines of a referral's lifecycle: acknowledge it, accept or refuse it, hold the first appointment."""

    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    FIRST_APPOINTMENT = "first_appointment"


class NextStepKind(StrEnum):
    """What a person goes on to after leaving a dispositif."""

    JOB = "job"
    TRAINING = "training"
    DISPOSITIF = "dispositif"
    STRUCTURE = "structure"


class CheckinAnchor(StrEnum):
    """What a post-exit check-in counts its months from: the exit from a dispositif, or a job start."""

    EXIT = "exit"
    JOB = "job"


class JobEndReason(StrEnum):
    """Why a job ended."""

    END_OF_CONTRACT = "end_of_contract"
    TRIAL_PERIOD = "trial_period"
    RESIGNATION = "resignation"
    DISMISSAL = "dismissal"
    MUTUAL_TERMINATION = "mutual_termination"
    BUSINESS_CLOSED = "business_closed"
    OTHER = "other"


class MergeRule(StrEnum):
    """Why intake decided two person_ids are the same person."""

    SAME_NIR = "same_nir"
    SAME_IDENTITY = "same_identity"
    MANUAL = "manual"


class TransferReason(StrEnum):
    """Why a caseload (or part of it) changes hands."""

    COUNSELLOR_LEFT = "counsellor_left"
    COUNSELLOR_ABSENT = "counsellor_absent"
    REORGANISATION = "reorganisation"
    STRUCTURE_CLOSING = "structure_closing"
    PERSON_MOVED = "person_moved"
    SPECIALISED_SUPPORT = "specialised_support"
    OTHER = "other"
