"""Small builders of contract events for followup tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contracts.clock import DayStarted
from contracts.pathway import (DispositifEntered, DispositifEnteredData, DispositifExited, DispositifExitedData,
                               JobEnded, JobEndedData, JobStarted, JobStartedData)
from contracts.people import ContactRecorded, ContactRecordedData, PersonRegistered, PersonRegisteredData
from contracts.referrals import (ReferralAccepted, ReferralAcceptedData, ReferralExpired, ReferralExpiredData,
                                 ReferralIssued, ReferralIssuedData, ReferralRefused, ReferralRefusedData)

START = date(2026, 1, 5)
PARIS = ZoneInfo("Europe/Paris")


def at(day: int, minute: int = 600) -> datetime:
    return datetime.combine(START + timedelta(days=day), time(0), PARIS) + timedelta(minutes=minute)


def registered(pid: str, day: int, eid: str | None = None, structure: str = "france_travail_angers_centre"):
    return PersonRegistered(id=eid or f"{pid}-reg", source=structure, subject=pid, time=at(day, 540),
                            data=PersonRegisteredData(structure_id=structure, registered_on=START, birth_year=1990,
                                                      commune_insee="49007", qpv_resident=False, rqth=False,
                                                      rsa=False, single_parent=False, education_level="4"))


def issued(pid: str, day: int, ref: str, to: str = "mission_locale_angevine", due_in: int = 15, kind="orientation",
           by: str = "france_travail_angers_centre"):
    return ReferralIssued(id=f"{pid}-{ref}-iss", source="ariane/referral", subject=pid, time=at(day, 545),
                          data=ReferralIssuedData(referral_id=ref, kind=kind, from_structure=by,
                                                  to_structure=to, reason="orientation", rule="r",
                                                  due_date=START + timedelta(days=day + due_in)))


def accepted(pid: str, day: int, ref: str, to: str = "mission_locale_angevine"):
    return ReferralAccepted(id=f"{pid}-{ref}-acc", source=to, subject=pid, time=at(day),
                            data=ReferralAcceptedData(referral_id=ref, structure_id=to))


def refused(pid: str, day: int, ref: str, to: str = "mission_locale_angevine"):
    return ReferralRefused(id=f"{pid}-{ref}-ref", source=to, subject=pid, time=at(day),
                           data=ReferralRefusedData(referral_id=ref, structure_id=to, reason_code="no_capacity"))


def expired(pid: str, day: int, ref: str, to: str = "mission_locale_angevine", due_day: int | None = None):
    due = START + timedelta(days=day if due_day is None else due_day)
    return ReferralExpired(id=f"{pid}-{ref}-exp", source="ariane/referral", subject=pid, time=at(day, 1),
                           data=ReferralExpiredData(referral_id=ref, structure_id=to, deadline="accept", due_date=due))


def entered(pid: str, day: int, disp: str, operator: str, minute: int = 600, eid: str | None = None):
    return DispositifEntered(id=eid or f"{pid}-{disp}-{day}-in", source=operator, subject=pid, time=at(day, minute),
                             data=DispositifEnteredData(dispositif_id=disp, structure_id=operator))


def exited(pid: str, day: int, disp: str, operator: str, minute: int = 600, eid: str | None = None):
    return DispositifExited(id=eid or f"{pid}-{disp}-{day}-out", source=operator, subject=pid, time=at(day, minute),
                            data=DispositifExitedData(dispositif_id=disp, structure_id=operator, exit_class="autre"))


def job_started(pid: str, day: int, job: str, structure: str | None = None, contract: str = "cdd",
                minute: int = 600, eid: str | None = None):
    return JobStarted(id=eid or f"{pid}-{job}-start", source=structure or "france_travail_angers_centre",
                      subject=pid, time=at(day, minute),
                      data=JobStartedData(job_id=job, employer="Boulangerie", contract_type=contract,
                                          hours_per_week=35, structure_id=structure,
                                          expected_end=START + timedelta(days=day + 60) if contract == "cdd" else None))


def job_ended(pid: str, day: int, job: str, minute: int = 600, eid: str | None = None):
    return JobEnded(id=eid or f"{pid}-{job}-end", source="france_travail_angers_centre", subject=pid,
                    time=at(day, minute), data=JobEndedData(job_id=job, reason="end_of_contract"))


def contact(pid: str, day: int, structure: str, reached: bool = True):
    return ContactRecorded(id=f"{pid}-contact-{day}-{structure}", source=structure, subject=pid, time=at(day),
                           data=ContactRecordedData(structure_id=structure, channel="phone", reached=reached))


def tick(day: int) -> DayStarted:
    return DayStarted.for_day(START + timedelta(days=day))
