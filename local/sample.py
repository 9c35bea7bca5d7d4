"""A small, seeded story of a territory for the reporting service's tests, examples and benchmark.

Not the simulator: just enough people going through registration, referrals, barriers, dispositifs, jobs,
loss and re-engagement, each event on the topic its writer publishes to, to exercise every figure.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contracts import topics
from contracts.barriers import BarrierIdentified, BarrierIdentifiedData, BarrierLifted, BarrierLiftedData
from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.followup import (
    CaseClosed,
    CaseClosedData,
    PersonLost,
    PersonLostData,
    PersonReengaged,
    PersonReengagedData,
)
from contracts.pathway import (
    DispositifEntered,
    DispositifEnteredData,
    DispositifExited,
    DispositifExitedData,
    JobStarted,
    JobStartedData,
)
from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcceptedData,
    ReferralExpired,
    ReferralExpiredData,
    ReferralFirstAppointmentHeld,
    ReferralFirstAppointmentHeldData,
    ReferralIssued,
    ReferralIssuedData,
)

PARIS = ZoneInfo("Europe/Paris")
START = date(2025, 1, 6)
REGISTRARS = ("france_travail_angers_centre", "mission_locale_angevine", "cap_emploi_49")
RECEIVERS = ("mission_locale_angevine", "plie_angers", "aldev_cite_emploi", "cap_emploi_49")
DISPOSITIFS = (("par_emploi_garde", "par_emploi", "garde_enfant"), ("carbur_pera_mobilite", "carbur_pera", "mobilite"),
               ("cite_emploi_angers", "aldev_cite_emploi", "numerique"))
EXIT_CLASSES = ("emploi_durable", "emploi_transition", "sortie_positive", "autre")


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def sample_events(people: int = 40, seed: int = 7, with_clock: bool = True) -> list[tuple[str, Envelope]]:
    """(logical topic, event) pairs in a plausible publication order; deterministic for a seed."""
    rng = random.Random(seed)
    out: list[tuple[str, Envelope]] = []
    last_day = START

    def add(topic: str, cls: type[Envelope], day: date, pid: str, eid: str, data, source: str) -> None:  # noqa: ANN001
        nonlocal last_day
        last_day = max(last_day, day)
        out.append((topic, cls(id=eid, source=source, subject=pid, time=_at(day), recordedtime=_at(day, 18),
                               data=data)))

    for n in range(people):
        pid = f"p-{seed}-{n:05d}"
        day = START + timedelta(days=rng.randrange(0, 120))
        registrar = rng.choice(REGISTRARS)
        add(topics.INTAKE, PersonRegistered, day, pid, f"{pid}:reg", PersonRegisteredData(
            structure_id=registrar, registered_on=day, birth_year=rng.choice((1975, 1988, 2001, 2004)),
            commune_insee=rng.choice(("49007", "49353")), qpv_resident=rng.random() < 0.4, rqth=rng.random() < 0.1,
            rsa=rng.random() < 0.3, single_parent=rng.random() < 0.25, education_level="4"), registrar)
        to = rng.choice([r for r in RECEIVERS if r != registrar])
        rid = f"ref-{pid}"
        issued = day + timedelta(days=rng.randrange(0, 10))
        orientation = rng.random() < 0.5
        add(topics.REFERRAL if orientation else topics.INTAKE, ReferralIssued, issued, pid, f"{rid}:issued",
            ReferralIssuedData(referral_id=rid, kind="orientation" if orientation else "prescription",
                               from_structure=registrar, to_structure=to, reason="Orientation vers le référent",
                               due_date=issued + timedelta(days=15)),
            "ariane/referral" if orientation else registrar)
        fate = rng.random()
        if fate < 0.7:
            accepted = issued + timedelta(days=rng.randrange(1, 25))
            add(topics.INTAKE, ReferralAccepted, accepted, pid, f"{rid}:acc",
                ReferralAcceptedData(referral_id=rid, structure_id=to), to)
            if rng.random() < 0.8:
                add(topics.INTAKE, ReferralFirstAppointmentHeld, accepted + timedelta(days=rng.randrange(1, 30)),
                    pid, f"{rid}:appt", ReferralFirstAppointmentHeldData(referral_id=rid, structure_id=to), to)
        elif fate < 0.85:
            expired = issued + timedelta(days=16)
            add(topics.REFERRAL, ReferralExpired, expired, pid, f"{rid}:exp",
                ReferralExpiredData(referral_id=rid, structure_id=to, deadline="accept",
                                    due_date=issued + timedelta(days=15)), "ariane/referral")
            lost_on = expired + timedelta(days=20)
            add(topics.FOLLOWUP, PersonLost, lost_on, pid, f"{pid}:lost", PersonLostData(
                reason="referral_expired", since=expired, structure_to_act=registrar, detected_on=lost_on),
                "ariane/followup")
            if rng.random() < 0.5:
                back = lost_on + timedelta(days=rng.randrange(5, 40))
                add(topics.FOLLOWUP, PersonReengaged, back, pid, f"{pid}:reeng", PersonReengagedData(
                    by_structure=registrar, lost_since=expired, reengaged_on=back), "ariane/followup")
        dispositif, operator, barrier = rng.choice(DISPOSITIFS)
        if rng.random() < 0.6:
            b_day = day + timedelta(days=rng.randrange(1, 20))
            add(topics.INTAKE, BarrierIdentified, b_day, pid, f"{pid}:brr", BarrierIdentifiedData(
                barrier_id=f"brr-{pid}", kind=barrier, impact="high", structure_id=registrar), registrar)
            e_day = b_day + timedelta(days=rng.randrange(1, 20))
            add(topics.INTAKE, DispositifEntered, e_day, pid, f"{pid}:in",
                DispositifEnteredData(dispositif_id=dispositif, structure_id=operator), operator)
            if rng.random() < 0.7:
                l_day = e_day + timedelta(days=rng.randrange(10, 60))
                add(topics.INTAKE, BarrierLifted, l_day, pid, f"{pid}:lift", BarrierLiftedData(
                    barrier_id=f"brr-{pid}", kind=barrier, dispositif_id=dispositif, structure_id=operator),
                    operator)
                x_day = l_day + timedelta(days=rng.randrange(5, 60))
                cls = rng.choice(EXIT_CLASSES)
                add(topics.INTAKE, DispositifExited, x_day, pid, f"{pid}:out", DispositifExitedData(
                    dispositif_id=dispositif, structure_id=operator, exit_class=cls), operator)
                if cls in ("emploi_durable", "emploi_transition"):
                    add(topics.INTAKE, JobStarted, x_day + timedelta(days=3), pid, f"{pid}:job", JobStartedData(
                        job_id=f"job-{pid}", employer="Boulangerie du Ralliement",
                        contract_type="cdi" if cls == "emploi_durable" else "cdd", hours_per_week=35), operator)
                    if cls == "emploi_durable" and rng.random() < 0.5:
                        add(topics.FOLLOWUP, CaseClosed, x_day + timedelta(days=200), pid, f"{pid}:closed",
                            CaseClosedData(reason="lasting_employment"), "ariane/followup")
    if with_clock:
        day = START
        while day <= last_day:
            tick = DayStarted.for_day(day, recordedtime=_at(day, 0))
            out.append((topics.CLOCK, tick))
            day += timedelta(days=1)
    out.sort(key=lambda pair: (pair[1].recordedtime or pair[1].time, pair[1].id))
    return out
