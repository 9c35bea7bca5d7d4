"""What followup keeps of each consumed event: a compact, serialisable fact, ordered by a total key.

The parcours is a pure fold over a person's facts sorted by `Fact.order`, so the state for a given set of
facts never depends on the order in which Kafka delivered them (see README, "The parcours").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from contracts.barriers import BarrierIdentified, BarrierLifted
from contracts.caseload import CaseloadTransferred
from contracts.clock import TIMEZONE
from contracts.envelope import Envelope, utc
from contracts.followup import CaseClosed, CheckinDone
from contracts.pathway import DispositifEntered, DispositifExited, JobEnded, JobStarted, TrainingEnded, TrainingStarted
from contracts.people import ContactRecorded, PersonProfileUpdated, PersonRegistered
from contracts.referrals import (ReferralAccepted, ReferralExpired, ReferralFirstAppointmentHeld, ReferralIssued,
                                 ReferralRefused, ReferralWithdrawn)

# The clock contract's time zone: only a default, the service passes its territory's (Territory.timezone).
CONTRACT_ZONE = ZoneInfo(TIMEZONE)

# Kinds that start holding a person (or only show activity) come before kinds that stop holding at the same
# instant, so a same-instant handover (exit from one dispositif, entry into the next) never opens a gap, and
# an entry and an exit of the same dispositif at one instant leave the person not held. Closures come last.
STARTS = ("registered", "profile", "referral_issued", "referral_accepted", "referral_appointment",
          "dispositif_entered", "job_started", "training_started", "contact", "checkin_done", "barrier",
          "caseload_transferred")
STOPS = ("referral_refused", "referral_expired", "referral_withdrawn", "dispositif_exited", "job_ended", "training_ended")
CLOSES = ("case_closed",)
PRECEDENCE = {kind: rank for rank, kinds in enumerate((STARTS, STOPS, CLOSES)) for kind in kinds}

# The event types that tell something about a person's parcours: the handlers route each of them to on_fact.
FACT_TYPES: tuple[type[Envelope], ...] = (
    PersonRegistered, PersonProfileUpdated, ContactRecorded, BarrierIdentified, BarrierLifted, ReferralIssued,
    ReferralAccepted, ReferralFirstAppointmentHeld, ReferralRefused, ReferralExpired, ReferralWithdrawn,
    DispositifEntered,
    DispositifExited, JobStarted, JobEnded, TrainingStarted, TrainingEnded, CheckinDone, CaseClosed,
    CaseloadTransferred,
)


def local_day(moment: datetime, zone: ZoneInfo = CONTRACT_ZONE) -> date:
    """The territory's calendar day of an instant (naive instants are taken as UTC)."""
    return utc(moment).astimezone(zone).date()


@dataclass(frozen=True)
class Fact:
    id: str
    at: datetime
    day: date  # the territory's calendar day of `at`, fixed when the fact is made
    kind: str
    structure: str | None = None
    ref: str | None = None
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def order(self) -> tuple[datetime, int, str]:
        """Total order: business time, then start-before-stop precedence, then event id (the last tie-breaker)."""
        return (utc(self.at), PRECEDENCE[self.kind], self.id)

    def to_json(self) -> dict[str, Any]:
        # The day is not stored: it is derived from `at` in the territory's zone when read back.
        return {"id": self.id, "at": utc(self.at).isoformat(), "kind": self.kind, "structure": self.structure,
                "ref": self.ref, "info": self.info}

    @classmethod
    def from_json(cls, raw: dict[str, Any], zone: ZoneInfo = CONTRACT_ZONE) -> Fact:
        at = datetime.fromisoformat(raw["at"])
        return cls(id=raw["id"], at=at, day=local_day(at, zone), kind=raw["kind"],
                   structure=raw.get("structure"), ref=raw.get("ref"), info=dict(raw.get("info") or {}))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _counsellor(ref: str | None) -> dict[str, Any]:
    return {"counsellor": ref} if ref else {}


def _file_number(partner_ref: str | None) -> dict[str, Any]:
    """The structure's own file number for the person, kept so that its worklist can name the person the way
    its counsellors know them (shown to that structure only). Only older records carry one: intake now
    publishes none, and the pages read the numbers from intake; forgotten on person.erased either way."""
    return {"file_number": partner_ref} if partner_ref else {}


def fact_of(event: Envelope, zone: ZoneInfo = CONTRACT_ZONE) -> Fact | None:
    """The fact an event tells about its subject, or None when followup has no use for it."""
    d = event.data
    base = {"id": event.id, "at": utc(event.time), "day": local_day(event.time, zone)}
    match event:
        case PersonRegistered():
            return Fact(**base, kind="registered", structure=d.structure_id, info=_file_number(d.partner_ref))
        case PersonProfileUpdated():
            return Fact(**base, kind="profile", structure=d.structure_id, info=_file_number(d.partner_ref))
        case ContactRecorded():
            return Fact(**base, kind="contact", structure=d.structure_id, info={"reached": d.reached})
        case BarrierIdentified() | BarrierLifted():
            return Fact(**base, kind="barrier", structure=d.structure_id, ref=d.barrier_id,
                        info={"kind": str(d.kind), "lifted": isinstance(event, BarrierLifted)})
        case ReferralIssued():
            return Fact(**base, kind="referral_issued", structure=d.to_structure, ref=d.referral_id,
                        info={"from": d.from_structure, "kind": str(d.kind), "due": _iso(d.due_date),
                              "dispositif": d.dispositif_id})
        case ReferralAccepted():
            return Fact(**base, kind="referral_accepted", structure=d.structure_id, ref=d.referral_id,
                        info=_counsellor(d.counsellor_ref))
        case ReferralFirstAppointmentHeld():
            return Fact(**base, kind="referral_appointment", structure=d.structure_id, ref=d.referral_id)
        case ReferralRefused():
            return Fact(**base, kind="referral_refused", structure=d.structure_id, ref=d.referral_id,
                        info={"reason": str(d.reason_code)})
        case ReferralExpired():
            return Fact(**base, kind="referral_expired", structure=d.structure_id, ref=d.referral_id,
                        info={"deadline": str(d.deadline), "due": _iso(d.due_date)})
        case ReferralWithdrawn():
            return Fact(**base, kind="referral_withdrawn", structure=d.structure_id, ref=d.referral_id,
                        info={"reason": d.reason_code})
        case DispositifEntered():
            return Fact(**base, kind="dispositif_entered", structure=d.structure_id, ref=d.dispositif_id,
                        info=_counsellor(d.counsellor_ref))
        case DispositifExited():
            step = d.next_step
            return Fact(**base, kind="dispositif_exited", structure=d.structure_id, ref=d.dispositif_id,
                        info={"exit_class": str(d.exit_class), "next_step": str(step.kind) if step else None})
        case JobStarted():
            lasting = str(d.contract_type) in ("cdi", "creation") or (
                d.expected_end is not None and (d.expected_end - base["day"]).days >= 183)
            return Fact(**base, kind="job_started", structure=d.structure_id, ref=d.job_id,
                        info={"lasting": lasting})
        case JobEnded():
            return Fact(**base, kind="job_ended", ref=d.job_id, info={"reason": str(d.reason)})
        case TrainingStarted():
            return Fact(**base, kind="training_started", structure=d.structure_id, ref=d.training_id)
        case TrainingEnded():
            return Fact(**base, kind="training_ended", ref=d.training_id)
        case CheckinDone():
            return Fact(**base, kind="checkin_done", structure=d.structure_id, ref=d.checkin_id,
                        info={"reached": d.reached, "situation": str(d.situation) if d.situation else None})
        case CaseClosed():
            return Fact(**base, kind="case_closed", info={"reason": str(d.reason)})
        case CaseloadTransferred():
            # It takes effect at the start of its day, whenever it was sent (often the Friday before).
            effective = datetime.combine(d.effective_on, time(0), zone)
            return Fact(id=event.id, at=utc(effective), day=d.effective_on, kind="caseload_transferred",
                        structure=d.to_structure, ref=d.transfer_id,
                        info={"from": d.from_structure, "from_counsellor": d.from_counsellor,
                              "to_counsellor": d.to_counsellor, "reason": str(d.reason)})
    return None
