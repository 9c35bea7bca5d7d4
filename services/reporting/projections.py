"""The reporting projection as a pure fold: each event becomes patches on documents, joined into the state.

Every document is a small JSON-able dict, and every field has a join policy (keep the earliest, keep the
latest, union of keyed entries). A join is commutative, associative and idempotent, so the state does not
depend on the order events arrive in (topics interleave differently live and in a replay), nor on an event
being seen twice. That is what makes a replay give the live service's figures exactly.

A fact that appears on two topics (a referral issued by a partner on the intake topic, a case closed by
followup) lands on the same document key (referral id, person id) and is therefore never counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from contracts.barriers import BarrierIdentified, BarrierLifted
from contracts.clock import DayStarted
from contracts.envelope import Envelope, utc
from contracts.followup import CaseClosed, PersonLost, PersonReengaged
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
)

TERRITORY_TZ = ZoneInfo("Europe/Paris")

Doc = dict[str, Any]
State = dict[str, Doc]  # document key ("person:<id>", "referral:<id>", ...) -> document
Patch = tuple[str, Doc]

# How each field joins. "min"/"max" compare lists whose first items are the event time and id, so ties are
# broken by the event id and never by arrival order. "map" unions keyed entries (the earliest wins a key).
MIN, MAX, MAP, MAP_MAX = "min", "max", "map", "map_max"
POLICY: dict[str, str] = {
    "kind": MIN, "person": MIN, "dispositif": MIN,
    "reg": MIN, "attr": MAP_MAX, "holder": MAX, "lost": MAP, "reeng": MAP, "closed": MAX, "first_ref": MIN,
    "issued": MIN, "ack": MIN, "accepted": MIN, "refused": MIN, "expired": MAP, "appt": MIN,
    "identified": MIN, "lifted": MIN,
    "entries": MAP, "exits": MAP,
    "job_started": MIN, "job_ended": MIN, "trn_started": MIN, "trn_ended": MIN,
    "kept": MIN, "day": MAX,
}
PROFILE_FIELDS = ("birth_year", "qpv_resident", "rqth", "rsa", "single_parent")


def stamp(event: Envelope) -> str:
    """The event time as a fixed-width UTC string, so that strings sort as times do."""
    return _stamp(event.time)


def local_day(event: Envelope) -> str:
    """The business day of an event in the territory's time zone, ISO formatted."""
    return _local_day(event.time)


@lru_cache(maxsize=65536)
def _stamp(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=65536)
def _local_day(moment: datetime) -> str:
    return utc(moment).astimezone(TERRITORY_TZ).date().isoformat()


def recorded_at(event: Envelope) -> datetime:
    """When Ariane recorded the event; the 'as of' cut uses it (the event time when it is absent)."""
    return utc(event.recordedtime or event.time)


def _join_value(policy: str, old: Any, new: Any) -> Any:
    if old is None:
        return new
    if new is None:
        return old
    if policy == MIN:
        return min(old, new)
    if policy == MAX:
        return max(old, new)
    merged = dict(old)
    for key, value in new.items():
        if key not in merged:
            merged[key] = value
        elif policy == MAP_MAX:
            merged[key] = max(merged[key], value)
        else:
            merged[key] = min(merged[key], value)
    return merged


def join(doc: Doc | None, patch: Mapping[str, Any]) -> Doc:
    """The least document holding both: the fold's only operation."""
    out = dict(doc or {})
    for field, value in patch.items():
        out[field] = _join_value(POLICY[field], out.get(field), value)
    return out


def _person(event: Envelope, **fields: Any) -> Patch:
    return f"person:{event.subject}", {"kind": "person", **fields}


def _referral(event: Envelope, referral_id: str, **fields: Any) -> Patch:
    return f"referral:{referral_id}", {"kind": "referral", "person": event.subject, **fields}


def patches(event: Envelope) -> list[Patch]:
    """What one event teaches the projection, as (document key, patch) pairs; unknown events teach nothing."""
    t, i, day = stamp(event), event.id, local_day(event)
    d = event.data
    if isinstance(event, PersonRegistered):
        attrs = {f: [t, i, getattr(d, f)] for f in PROFILE_FIELDS}
        return [_person(event, reg=[t, i, d.registered_on.isoformat(), d.structure_id], attr=attrs,
                        holder=[t, i, d.structure_id])]
    if isinstance(event, PersonProfileUpdated):
        attrs = {f: [t, i, getattr(d, f)] for f in PROFILE_FIELDS if getattr(d, f) is not None}
        return [_person(event, attr=attrs)] if attrs else []
    if isinstance(event, PersonIdentitiesMerged):
        return [(f"alias:{d.merged_person_id}", {"kind": "alias", "kept": [t, i, d.kept_person_id]})]
    if isinstance(event, ReferralIssued):
        return [_referral(event, d.referral_id, issued=[t, i, day, d.kind.value, d.from_structure, d.to_structure,
                                                        d.dispositif_id or "", d.due_date.isoformat()]),
                _person(event, first_ref=[t, i, day])]
    if isinstance(event, ReferralAcknowledged):
        return [_referral(event, d.referral_id, ack=[t, i, day])]
    if isinstance(event, ReferralAccepted):
        return [_referral(event, d.referral_id, accepted=[t, i, day, d.structure_id]),
                _person(event, holder=[t, i, d.structure_id])]
    if isinstance(event, ReferralRefused):
        return [_referral(event, d.referral_id, refused=[t, i, day, d.reason_code.value])]
    if isinstance(event, ReferralExpired):
        return [_referral(event, d.referral_id, expired={d.deadline.value: [t, i, day, d.structure_id]})]
    if isinstance(event, ReferralFirstAppointmentHeld):
        return [_referral(event, d.referral_id, appt=[t, i, day]), _person(event, holder=[t, i, d.structure_id])]
    if isinstance(event, BarrierIdentified):
        return [(f"barrier:{d.barrier_id}", {"kind": "barrier", "person": event.subject,
                                              "identified": [t, i, day, d.kind.value, d.impact.value,
                                                             d.structure_id]})]
    if isinstance(event, BarrierLifted):
        return [(f"barrier:{d.barrier_id}", {"kind": "barrier", "person": event.subject,
                                              "lifted": [t, i, day, d.kind.value, d.dispositif_id or "",
                                                         d.structure_id]})]
    if isinstance(event, DispositifEntered):
        return [(f"stay:{event.subject}:{d.dispositif_id}",
                 {"kind": "stay", "person": event.subject, "dispositif": d.dispositif_id,
                  "entries": {i: [t, day, d.structure_id]}}),
                _person(event, holder=[t, i, d.structure_id])]
    if isinstance(event, DispositifExited):
        next_kind = d.next_step.kind.value if d.next_step else ""
        return [(f"stay:{event.subject}:{d.dispositif_id}",
                 {"kind": "stay", "person": event.subject, "dispositif": d.dispositif_id,
                  "exits": {i: [t, day, d.exit_class.value, d.structure_id, next_kind]}})]
    if isinstance(event, JobStarted):
        return [(f"job:{d.job_id}", {"kind": "job", "person": event.subject,
                                      "job_started": [t, i, day, d.contract_type.value, d.structure_id or ""]})]
    if isinstance(event, JobEnded):
        return [(f"job:{d.job_id}", {"kind": "job", "person": event.subject,
                                      "job_ended": [t, i, day, d.reason.value]})]
    if isinstance(event, TrainingStarted):
        return [(f"training:{d.training_id}", {"kind": "training", "person": event.subject,
                                                "trn_started": [t, i, day, d.qualifying, d.structure_id]})]
    if isinstance(event, TrainingEnded):
        return [(f"training:{d.training_id}", {"kind": "training", "person": event.subject,
                                                "trn_ended": [t, i, day, d.completed, d.qualifying]})]
    if isinstance(event, PersonLost):
        return [_person(event, lost={i: [t, d.detected_on.isoformat(), d.reason.value, d.structure_to_act]})]
    if isinstance(event, PersonReengaged):
        return [_person(event, reeng={i: [t, d.reengaged_on.isoformat(), d.by_structure]})]
    if isinstance(event, CaseClosed):
        return [_person(event, closed=[t, i, day, d.reason.value])]
    if isinstance(event, DayStarted):
        return [("clock:day", {"kind": "clock", "day": d.day.isoformat()})]
    return []


def apply(state: State, event: Envelope) -> State:
    """One step of the fold: a new state, the old one untouched."""
    changes = patches(event)
    if not changes:
        return state
    out = dict(state)
    for key, patch in changes:
        out[key] = join(out.get(key), patch)
    return out


def fold(events: Iterable[Envelope], state: State | None = None) -> State:
    """The projection of a sequence of events (mutates only its own fresh copy, for speed on replays)."""
    out: State = dict(state or {})
    for event in events:
        for key, patch in patches(event):
            out[key] = join(out.get(key), patch)
    return out


def as_of_filter(cutoff: datetime | None):  # noqa: ANN201 - a predicate
    """Keep events recorded strictly before `cutoff` (None keeps everything)."""
    if cutoff is None:
        return lambda event: True
    cut = utc(cutoff)
    return lambda event: recorded_at(event) < cut


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in the territory's time zone: the 'as of' cut of that date."""
    from datetime import time, timedelta

    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=TERRITORY_TZ)
