"""The projection as a pure fold: each event type has one rule saying what it teaches the documents.

`RULES` is the table from event type to rule; a rule turns one event into patches (document key, fields),
joined into the state by `documents.join`. A fact that appears on two topics (a referral issued by a partner
on the intake topic, a case closed by followup) lands on the same document key (referral id, person id) and
is therefore never counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from contracts.barriers import BarrierIdentified, BarrierLifted
from contracts.caseload import CaseloadTransferred
from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.followup import CaseClosed, PersonLossCorrected, PersonLost, PersonReengaged
from contracts.pathway import (
    DispositifEntered,
    DispositifExited,
    JobEnded,
    JobStarted,
    TrainingEnded,
    TrainingStarted,
)
from contracts.people import PersonIdentitiesMerged, PersonProfileUpdated, PersonRegistered
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralExpired,
    ReferralFirstAppointmentHeld,
    ReferralIssued,
    ReferralRefused,
    ReferralWithdrawn,
)
from services.reporting.domain.calendar import DEFAULT_ZONE, _local_day, _stamp, stamp
from services.reporting.domain.documents import (
    Accepted,
    Attribute,
    Closure,
    Dated,
    Entry,
    Exit,
    Expiry,
    Holding,
    Identified,
    Issued,
    JobEnd,
    JobStart,
    Kept,
    Lifted,
    LostEpisode,
    Moved,
    Patch,
    Reengagement,
    Refused,
    Registration,
    State,
    TrainingEnd,
    TrainingStart,
    join,
)

Rule = Callable[[Any, ZoneInfo], list[Patch]]
PROFILE_FIELDS = ("birth_year", "qpv_resident", "rqth", "rsa", "single_parent")

# The rules below build each patch as one dict literal and each row once, from one look-up of the event's
# stamp and day: they run once per event of a replay, where keyword-argument helpers, a `Dated` row unpacked
# into the next and two cache look-ups per event cost as much as the events' validation.


@lru_cache(maxsize=65536)
def _moment(moment: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """The stamp and the business day of one instant (events share few: a simulated year of 28,184 events
    holds 1,260 distinct times)."""
    return _stamp(moment), _local_day(moment, zone)


def _when(event: Envelope, zone: ZoneInfo) -> tuple[str, str]:
    """(stamp(event), local_day(event, zone)) in one look-up."""
    return _moment(event.time, zone)


def person_registered(e: PersonRegistered, zone: ZoneInfo) -> list[Patch]:
    t, d, i = stamp(e), e.data, e.id
    return [(f"person:{e.subject}", {
        "kind": "person", "reg": Registration(t, i, d.registered_on.isoformat(), d.structure_id),
        "attr": {f: Attribute(t, i, getattr(d, f)) for f in PROFILE_FIELDS},
        "holder": Holding(t, i, d.structure_id)})]


def person_profile_updated(e: PersonProfileUpdated, zone: ZoneInfo) -> list[Patch]:
    t, d = stamp(e), e.data
    attrs = {f: Attribute(t, e.id, getattr(d, f)) for f in PROFILE_FIELDS if getattr(d, f) is not None}
    return [(f"person:{e.subject}", {"kind": "person", "attr": attrs})] if attrs else []


def person_identities_merged(e: PersonIdentitiesMerged, zone: ZoneInfo) -> list[Patch]:
    d = e.data
    return [(f"alias:{d.merged_person_id}", {"kind": "alias", "kept": Kept(stamp(e), e.id, d.kept_person_id)})]


def referral_issued(e: ReferralIssued, zone: ZoneInfo) -> list[Patch]:
    (t, day), d, i, p = _when(e, zone), e.data, e.id, e.subject
    return [(f"referral:{d.referral_id}", {
                "kind": "referral", "person": p,
                "issued": Issued(t, i, day, d.kind.value, d.from_structure, d.to_structure, d.dispositif_id or "",
                                 d.due_date.isoformat())}),
            (f"person:{p}", {"kind": "person", "first_ref": Dated(t, i, day)})]


def referral_acknowledged(e: ReferralAcknowledged, zone: ZoneInfo) -> list[Patch]:
    t, day = _when(e, zone)
    return [(f"referral:{e.data.referral_id}", {"kind": "referral", "person": e.subject, "ack": Dated(t, e.id, day)})]


def referral_accepted(e: ReferralAccepted, zone: ZoneInfo) -> list[Patch]:
    (t, day), d, i, p = _when(e, zone), e.data, e.id, e.subject
    return [(f"referral:{d.referral_id}", {"kind": "referral", "person": p,
                                           "accepted": Accepted(t, i, day, d.structure_id)}),
            (f"person:{p}", {"kind": "person", "holder": Holding(t, i, d.structure_id)})]


def referral_refused(e: ReferralRefused, zone: ZoneInfo) -> list[Patch]:
    (t, day), d = _when(e, zone), e.data
    return [(f"referral:{d.referral_id}", {"kind": "referral", "person": e.subject,
                                           "refused": Refused(t, e.id, day, d.reason_code.value)})]


def referral_expired(e: ReferralExpired, zone: ZoneInfo) -> list[Patch]:
    (t, day), d = _when(e, zone), e.data
    return [(f"referral:{d.referral_id}", {"kind": "referral", "person": e.subject,
                                           "expired": {d.deadline.value: Expiry(t, e.id, day, d.structure_id)}})]


def referral_withdrawn(e: ReferralWithdrawn, zone: ZoneInfo) -> list[Patch]:
    t, day = _when(e, zone)
    return [(f"referral:{e.data.referral_id}", {"kind": "referral", "person": e.subject,
                                                "withdrawn": Dated(t, e.id, day)})]


def first_appointment_held(e: ReferralFirstAppointmentHeld, zone: ZoneInfo) -> list[Patch]:
    (t, day), d, i, p = _when(e, zone), e.data, e.id, e.subject
    return [(f"referral:{d.referral_id}", {"kind": "referral", "person": p, "appt": Dated(t, i, day)}),
            (f"person:{p}", {"kind": "person", "holder": Holding(t, i, d.structure_id)})]


def barrier_identified(e: BarrierIdentified, zone: ZoneInfo) -> list[Patch]:
    (t, day), d = _when(e, zone), e.data
    return [(f"barrier:{d.barrier_id}", {
        "kind": "barrier", "person": e.subject,
        "identified": Identified(t, e.id, day, d.kind.value, d.impact.value, d.structure_id)})]


def barrier_lifted(e: BarrierLifted, zone: ZoneInfo) -> list[Patch]:
    (t, day), d = _when(e, zone), e.data
    return [(f"barrier:{d.barrier_id}", {
        "kind": "barrier", "person": e.subject,
        "lifted": Lifted(t, e.id, day, d.kind.value, d.dispositif_id or "", d.structure_id,
                         d.childcare_solution.value if d.childcare_solution else "")})]


def dispositif_entered(e: DispositifEntered, zone: ZoneInfo) -> list[Patch]:
    (t, day), d, p = _when(e, zone), e.data, e.subject
    return [(f"stay:{p}:{d.dispositif_id}", {"kind": "stay", "person": p, "dispositif": d.dispositif_id,
                                             "entries": {e.id: Entry(t, day, d.structure_id)}}),
            (f"person:{p}", {"kind": "person", "holder": Holding(t, e.id, d.structure_id)})]


def dispositif_exited(e: DispositifExited, zone: ZoneInfo) -> list[Patch]:
    (t, day), d, p = _when(e, zone), e.data, e.subject
    next_kind = d.next_step.kind.value if d.next_step else ""
    return [(f"stay:{p}:{d.dispositif_id}", {
        "kind": "stay", "person": p, "dispositif": d.dispositif_id,
        "exits": {e.id: Exit(t, day, d.exit_class.value, d.structure_id, next_kind)}})]


def job_started(e: JobStarted, zone: ZoneInfo) -> list[Patch]:
    (t, day), d = _when(e, zone), e.data
    return [(f"job:{d.job_id}", {"kind": "job", "person": e.subject,
                                 "job_started": JobStart(t, e.id, day, d.contract_type.value, d.structure_id or "")})]


def job_ended(e: JobEnded, zone: ZoneInfo) -> list[Patch]:
    (t, day), d = _when(e, zone), e.data
    return [(f"job:{d.job_id}", {"kind": "job", "person": e.subject,
                                 "job_ended": JobEnd(t, e.id, day, d.reason.value)})]


def training_started(e: TrainingStarted, zone: ZoneInfo) -> list[Patch]:
    (t, day), d = _when(e, zone), e.data
    return [(f"training:{d.training_id}", {"kind": "training", "person": e.subject,
                                           "trn_started": TrainingStart(t, e.id, day, d.qualifying, d.structure_id)})]


def training_ended(e: TrainingEnded, zone: ZoneInfo) -> list[Patch]:
    (t, day), d = _when(e, zone), e.data
    return [(f"training:{d.training_id}", {"kind": "training", "person": e.subject,
                                           "trn_ended": TrainingEnd(t, e.id, day, d.completed, d.qualifying)})]


def person_lost(e: PersonLost, zone: ZoneInfo) -> list[Patch]:
    d = e.data
    return [(f"person:{e.subject}", {"kind": "person", "lost": {
        e.id: LostEpisode(stamp(e), d.detected_on.isoformat(), d.reason.value, d.structure_to_act)}})]


def person_reengaged(e: PersonReengaged, zone: ZoneInfo) -> list[Patch]:
    d = e.data
    return [(f"person:{e.subject}", {"kind": "person", "reeng": {
        e.id: Reengagement(stamp(e), d.reengaged_on.isoformat(), d.by_structure)}})]


def person_loss_corrected(e: PersonLossCorrected, zone: ZoneInfo) -> list[Patch]:
    """A lost episode a late fact disproves no longer counts as lost (an at-risk one was never counted)."""
    d = e.data
    if not d.was_lost:
        return []
    t, day = _when(e, zone)
    return [(f"person:{e.subject}", {"kind": "person", "corrected": {e.id: Reengagement(t, day, d.held_by)}})]


def case_closed(e: CaseClosed, zone: ZoneInfo) -> list[Patch]:
    t, day = _when(e, zone)
    return [(f"person:{e.subject}", {"kind": "person", "closed": Closure(t, e.id, day, e.data.reason.value)})]


def caseload_transferred(e: CaseloadTransferred, zone: ZoneInfo) -> list[Patch]:
    """Counted by the day it takes effect, once per person and transfer (a resent event joins the same key)."""
    d, p = e.data, e.subject
    return [(f"transfer:{d.transfer_id}:{p}", {
        "kind": "transfer", "person": p,
        "moved": Moved(stamp(e), e.id, d.effective_on.isoformat(), d.from_structure, d.to_structure,
                       d.reason.value, d.transfer_id)})]


def day_started(e: DayStarted, zone: ZoneInfo) -> list[Patch]:
    return [("clock:day", {"kind": "clock", "day": e.data.day.isoformat()})]


RULES: Mapping[type[Envelope], Rule] = {
    PersonRegistered: person_registered,
    PersonProfileUpdated: person_profile_updated,
    PersonIdentitiesMerged: person_identities_merged,
    ReferralIssued: referral_issued,
    ReferralAcknowledged: referral_acknowledged,
    ReferralAccepted: referral_accepted,
    ReferralRefused: referral_refused,
    ReferralExpired: referral_expired,
    ReferralFirstAppointmentHeld: first_appointment_held,
    ReferralWithdrawn: referral_withdrawn,
    BarrierIdentified: barrier_identified,
    BarrierLifted: barrier_lifted,
    DispositifEntered: dispositif_entered,
    DispositifExited: dispositif_exited,
    JobStarted: job_started,
    JobEnded: job_ended,
    TrainingStarted: training_started,
    TrainingEnded: training_ended,
    PersonLost: person_lost,
    PersonReengaged: person_reengaged,
    PersonLossCorrected: person_loss_corrected,
    CaseClosed: case_closed,
    CaseloadTransferred: caseload_transferred,
    DayStarted: day_started,
}


def patches(event: Envelope, zone: ZoneInfo = DEFAULT_ZONE) -> list[Patch]:
    """What one event teaches the projection; events of a type with no rule teach nothing."""
    rule = RULES.get(type(event))
    return rule(event, zone) if rule is not None else []


def apply(state: State, event: Envelope, zone: ZoneInfo = DEFAULT_ZONE) -> State:
    """One step of the fold: a new state, the old one untouched."""
    changes = patches(event, zone)
    if not changes:
        return state
    out = dict(state)
    for key, patch in changes:
        out[key] = join(out.get(key), patch)
    return out


def fold(events: Iterable[Envelope], state: State | None = None, zone: ZoneInfo = DEFAULT_ZONE) -> State:
    """The projection of a sequence of events (mutates only its own fresh copy, for speed on replays)."""
    out: State = dict(state or {})
    for event in events:
        for key, patch in patches(event, zone):
            out[key] = join(out.get(key), patch)
    return out
