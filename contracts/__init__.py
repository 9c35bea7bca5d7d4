"""Ariane's integration contracts: the CloudEvents envelope, every v1 event type, topics and vocabulary.

Services and partners share only this package. Payload models live in their domain modules
(people, barriers, referrals, pathway, followup, clock); the common names are re-exported here.
"""

from contracts.barriers import BarrierIdentified, BarrierLifted
from contracts.clock import DayStarted, clock_event_id
from contracts.envelope import Envelope, Payload, full_type, new_event_id, schema_uri, utc
from contracts.events import (
    BY_SHORT_TYPE,
    EVENT_CLASSES,
    EVENT_TYPES,
    PARTNER_TYPES,
    TOPIC_TYPES,
    ContractError,
    Event,
    FieldError,
    event_adapter,
    parse_event,
    parse_events,
)
from contracts.followup import CaseClosed, CheckinDone, CheckinDue, PersonAtRisk, PersonLost, PersonReengaged
from contracts.pathway import (
    DispositifEntered,
    DispositifExited,
    JobEnded,
    JobStarted,
    TrainingEnded,
    TrainingStarted,
)
from contracts.caseload import CaseloadTransferred
from contracts.identity import IdentityDisclosed, IdentityReviewDecided, IdentityReviewOpened
from contracts.people import (
    ContactRecorded,
    Identity,
    PersonIdentitiesMerged,
    PersonProfileUpdated,
    PersonRegistered,
    carries_identity,
    without_identity,
)
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralExpired,
    ReferralFirstAppointmentHeld,
    ReferralIssued,
    ReferralRefused,
    ReferralReminderSent,
)

__all__ = [
    "BY_SHORT_TYPE",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "PARTNER_TYPES",
    "TOPIC_TYPES",
    "BarrierIdentified",
    "BarrierLifted",
    "CaseClosed",
    "CaseloadTransferred",
    "CheckinDone",
    "CheckinDue",
    "ContactRecorded",
    "ContractError",
    "DayStarted",
    "DispositifEntered",
    "DispositifExited",
    "Envelope",
    "Event",
    "FieldError",
    "Identity",
    "JobEnded",
    "JobStarted",
    "Payload",
    "PersonAtRisk",
    "PersonIdentitiesMerged",
    "IdentityDisclosed",
    "IdentityReviewDecided",
    "IdentityReviewOpened",
    "PersonLost",
    "PersonProfileUpdated",
    "PersonReengaged",
    "PersonRegistered",
    "ReferralAccepted",
    "ReferralAcknowledged",
    "ReferralExpired",
    "ReferralFirstAppointmentHeld",
    "ReferralIssued",
    "ReferralRefused",
    "ReferralReminderSent",
    "TrainingEnded",
    "TrainingStarted",
    "carries_identity",
    "clock_event_id",
    "event_adapter",
    "full_type",
    "new_event_id",
    "parse_event",
    "parse_events",
    "schema_uri",
    "utc",
    "without_identity",
]
