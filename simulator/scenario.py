"""A person's year as a deterministic script of partner events.

The script registers the person with their organisme référent, identifies barriers, answers the referrals
that concern them (the orientation referrals the referral service will issue, and prescriptions the referent
issues itself), enters a dispositif, then plays one plot (presets.PLOTS): a job, a training, staying
accompanied, leaving with no next step, going silent, moving away... Structures contact the people they hold
every 20 to 40 days. Everything is drawn from the person's own generator: the same seed gives the same script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contracts.barriers import BarrierIdentified, BarrierIdentifiedData, BarrierLifted, BarrierLiftedData
from contracts.envelope import Envelope
from contracts.followup import CaseClosed, CaseClosedData, CheckinDone, CheckinDoneData
from contracts.pathway import (DispositifEntered, DispositifEnteredData, DispositifExited, DispositifExitedData,
                               JobEnded, JobEndedData, JobStarted, JobStartedData, NextStep, TrainingEnded,
                               TrainingEndedData, TrainingStarted, TrainingStartedData)
from contracts.people import ContactRecorded, ContactRecordedData, PersonRegistered, PersonRegisteredData
from contracts.referrals import (ReferralAccepted, ReferralAcceptedData, ReferralAcknowledged,
                                 ReferralAcknowledgedData, ReferralFirstAppointmentHeld,
                                 ReferralFirstAppointmentHeldData, ReferralIssued, ReferralIssuedData,
                                 ReferralRefused, ReferralRefusedData)
from contracts.territory import Territory
from contracts.vocabulary import (BarrierKind, CheckinOutcome, CloseReason, ContactChannel, ContractType,
                                  ExitClass, FtCategory, ImpactLevel, JobEndReason, NextStepKind, RefusalReason,
                                  ReferralKind, StructureKind)

from simulator.parcours import add_months, checkin_ref
from simulator.people import SimPerson, make_person, referent_rule, rng_for, weighted
from simulator.presets import Preset

PARIS = ZoneInfo("Europe/Paris")
PRESET_CODES = {"cite-emploi-angers": "ce", "par-emploi": "pe", "territory": "te"}
KIND_CODES = {StructureKind.FRANCE_TRAVAIL: "FT", StructureKind.MISSION_LOCALE: "ML", StructureKind.CAP_EMPLOI: "CAP",
              StructureKind.DEPARTEMENT: "CD49", StructureKind.PLIE: "PLIE", StructureKind.CITE_EMPLOI: "CITE"}
# Dispositifs a referent may prescribe when no orientation rule routes the person, by who they suit.
PRESCRIBABLE = ("plie_parcours", "iae_regie", "iae_aci")
EMPLOYERS = ("Boulangerie du Ralliement", "Transports Angevins", "Clinique de l'Anjou", "Logistique Loire Ouest",
             "Restaurant La Doutre", "Maraîchage Saint-Barthélemy", "Nettoyage Pro 49", "Supermarché Monplaisir",
             "BTP Maine-et-Loire", "EHPAD Les Capucins", "Mairie de Trélazé", "Garage de la Roseraie")


def orientation_answer_ref(to_structure: str) -> str:
    """The placeholder partners put in answers to the orientation referral sent to `to_structure`.

    The referral service names its referrals from the person_id (which partners learn from intake); the sender
    replaces this placeholder by the id of the open orientation referral to that structure for that person."""
    return f"sim-ask-referral-{to_structure}"


@dataclass(frozen=True)
class PredictedReferral:
    """An orientation referral the referral service will issue (not in the partner stream), and its answer."""

    referral_id: str
    rule: str
    from_structure: str
    to_structure: str
    dispositif_id: str | None
    issued_day: int
    due_day: int
    answer: str


@dataclass
class PersonScript:
    person: SimPerson
    partner_ref: str
    referent: str
    route: str | None
    plot: str
    orientations: list[PredictedReferral] = field(default_factory=list)
    # (day, step, event class, source, data); turned into envelopes by `envelopes`
    raw: list[tuple[int, int, type[Envelope], str, Any]] = field(default_factory=list)
    events: list[tuple[int, Envelope]] = field(default_factory=list)


def person_of_event_id(event_id: str) -> str:
    """The simulated person an event id belongs to (ids are `<seed+preset>-<person>-<step>`, see _Script)."""
    return event_id.rsplit("-", 1)[0]


class _Script:
    """Collects a person's events; days past the horizon are dropped (they happen after the simulated year)."""

    def __init__(self, seed: int, preset: Preset, script: PersonScript, start: date, horizon: int):
        self.prefix = f"s{seed}{PRESET_CODES.get(preset.name, 'xx')}-{script.person.key}"
        self.script, self.start, self.horizon = script, start, horizon
        self.step = 0

    def next_id(self) -> str:
        return f"{self.prefix}-{self.step:03d}"

    def emit(self, day: int, cls: type[Envelope], source: str, data: Any) -> str:
        event_id = self.next_id()
        self.step += 1
        if 0 <= day < self.horizon:
            self.script.raw.append((day, self.step - 1, cls, source, data))
        return event_id

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    def finish(self) -> None:
        """Events in day order, each at 09:00 plus a minute per event of the person's day, ids by step."""
        self.script.raw.sort(key=lambda r: (r[0], r[1]))
        per_day: dict[int, int] = {}
        for day, step, cls, source, data in self.script.raw:
            rank = per_day.get(day, 0)
            per_day[day] = rank + 1
            when = datetime.combine(self.day(day), time(9), tzinfo=PARIS) + timedelta(minutes=rank)
            self.script.events.append((day, cls(id=f"{self.prefix}-{step:03d}", source=source,
                                                subject=self.script.partner_ref, time=when, data=data)))


def build_script(seed: int, preset: Preset, index: int, territory: Territory, start: date,
                 horizon: int) -> PersonScript:
    person = make_person(seed, preset, index, start)
    rng = rng_for(seed, preset.name, index, "script")
    sla, thresholds = territory.referral_sla, territory.followup
    year = start.year
    referent = referent_rule(person, territory, year).to
    ref_kind = territory.structure(referent).kind
    partner_ref = f"{KIND_CODES.get(ref_kind, 'X')}-{year}-{index + 1:06d}"
    plot = str(weighted(rng, preset.plots))
    script = PersonScript(person=person, partner_ref=partner_ref, referent=referent, route=None, plot=plot)
    s = _Script(seed, preset, script, start, horizon)

    # Registration with the referent, then the barriers it identifies in the first week.
    r = rng.randint(0, preset.registration_window_days)
    reg_id = s.emit(r, PersonRegistered, referent, PersonRegisteredData(
        structure_id=referent, registered_on=s.day(r), birth_year=person.birth_year,
        commune_insee=person.commune_insee, qpv_resident=person.qpv_resident, rqth=person.rqth, rsa=person.rsa,
        single_parent=person.single_parent, education_level=person.education_level,
        ft_category=FtCategory.A if ref_kind == StructureKind.FRANCE_TRAVAIL else None,
        partner_ref=partner_ref, identity=person.identity))
    causes: list[tuple[int, str, BarrierKind | None]] = [(r, reg_id, None)]
    barrier_ids: dict[BarrierKind, str] = {}
    for n, kind in enumerate(person.barriers):
        day = r + rng.randint(1, 6)
        barrier_ids[kind] = f"brr-{partner_ref}-{n + 1}"
        ev = s.emit(day, BarrierIdentified, referent, BarrierIdentifiedData(
            barrier_id=barrier_ids[kind], kind=kind, impact=weighted(rng, {ImpactLevel.LOW: 1, ImpactLevel.MEDIUM: 2,
                                                                           ImpactLevel.HIGH: 2}),
            structure_id=referent))
        causes.append((day, ev, kind))

    # The orientation referrals the referral service will issue besides the referent (non-primary rules).
    orient: list[tuple[int, str, Any]] = []
    for rule in territory.orientation:
        if rule.primary or rule.to == referent or not person.matches(rule.when, year):
            continue
        for day, cause, kind in causes:
            if rule.when_barrier == kind:
                orient.append((day, orientation_answer_ref(rule.to), rule))
                break

    # The route: which dispositif the person is meant to enter, and through which referral.
    route = preset.forced_route
    if route is None:
        if person.qpv_resident:
            route = "cite_emploi_angers"
        elif person.single_parent and BarrierKind.GARDE_ENFANT in person.barriers:
            route = "par_emploi_garde"
        elif BarrierKind.MOBILITE in person.barriers and rng.random() < 0.5:
            route = "carbur_pera_mobilite"
        elif rng.random() < preset.prescription_share:
            route = rng.choice(PRESCRIBABLE)
    script.route = route
    dispositif = territory.dispositifs_by_id[route] if route else None
    operator = dispositif.operator if dispositif else None

    main: tuple[int, str, str] | None = None  # (issued day, referral id, answer)
    for day, ref_id, rule in orient:
        is_main = operator == rule.to and main is None
        answer = str(weighted(rng, preset.answers)) if is_main else "refused"
        script.orientations.append(PredictedReferral(
            referral_id=ref_id, rule=rule.id, from_structure=referent, to_structure=rule.to,
            dispositif_id=None, issued_day=day, due_day=day + sla.accept_days, answer=answer))
        if is_main:
            main = (day, ref_id, answer)
        else:
            s.emit(day + rng.randint(2, sla.accept_days - 2), ReferralRefused, rule.to, ReferralRefusedData(
                referral_id=ref_id, structure_id=rule.to,
                reason_code=rng.choice((RefusalReason.NO_CAPACITY, RefusalReason.DUPLICATE))))
    if dispositif and operator and main is None and operator != referent:
        day = r + rng.randint(7, 20)
        ref_id = f"rx-{partner_ref}-1"
        s.emit(day, ReferralIssued, referent, ReferralIssuedData(
            referral_id=ref_id, kind=ReferralKind.PRESCRIPTION, from_structure=referent, to_structure=operator,
            dispositif_id=dispositif.id, reason=f"Prescription {dispositif.name}",
            due_date=s.day(day + sla.accept_days)))
        main = (day, ref_id, str(weighted(rng, preset.answers)))

    # The answer to the main referral; entry into the dispositif at the first appointment.
    entry: int | None = None
    answer: str | None = None
    contacts_from: int | None = r  # when the structure holding the person starts contacting them
    if main and operator:
        issued, ref_id, answer = main
        due = issued + sla.accept_days
        if answer != "never":
            s.emit(issued + rng.randint(1, sla.acknowledge_days - 1), ReferralAcknowledged, operator,
                   ReferralAcknowledgedData(referral_id=ref_id, structure_id=operator))
        if answer in ("on_time", "late"):
            # Late means after the day following the due date: the referral service has expired it by then.
            accept = rng.randint(issued + 3, due - 1) if answer == "on_time" \
                else rng.randint(due + 2, issued + sla.accept_ceiling_days - 1)
            entry = accept + rng.randint(2, 7)
            s.emit(accept, ReferralAccepted, operator, ReferralAcceptedData(
                referral_id=ref_id, structure_id=operator, first_appointment_on=s.day(entry)))
            s.emit(entry, ReferralFirstAppointmentHeld, operator,
                   ReferralFirstAppointmentHeldData(referral_id=ref_id, structure_id=operator))
            s.emit(entry, DispositifEntered, operator,
                   DispositifEnteredData(dispositif_id=dispositif.id, structure_id=operator))
            contacts_from = None  # the referent leaves the follow-up to the dispositif
        elif answer == "refused":
            refused = issued + rng.randint(3, sla.accept_days - 1)
            s.emit(refused, ReferralRefused, operator, ReferralRefusedData(
                referral_id=ref_id, structure_id=operator, reason_code=RefusalReason.NO_CAPACITY))
        elif rng.random() < 0.5:
            contacts_from = None  # nobody answers and the referent does not follow the person either
            plot = script.plot = "referral_unanswered"
    in_dispositif = entry is not None
    holder = operator if in_dispositif and operator else referent
    unreachable: list[tuple[int, int]] = []  # periods when check-ins cannot reach the person

    def contacts(first: int, last: int, by: str) -> int:
        """Contacts every 20 to 40 days after `first` until `last` (exclusive); the last one's day."""
        day, latest = first + rng.randint(20, 40), first
        while day < last:
            if rng.random() < 0.1:  # an unanswered call, answered the next day
                s.emit(day, ContactRecorded, by, ContactRecordedData(
                    structure_id=by, channel=ContactChannel.PHONE, reached=False))
                day += 1
            s.emit(day, ContactRecorded, by, ContactRecordedData(
                structure_id=by, channel=rng.choice(list(ContactChannel)), reached=True))
            latest = day
            day += rng.randint(20, 40)
        return latest

    base = entry if entry is not None else r + 15
    plot_day = base + rng.randint(45, 180)
    # Barriers lifted while the person is accompanied: by the dispositif when it works on them, else by the
    # referent for about half of them.
    for kind, barrier_id in barrier_ids.items():
        if in_dispositif and dispositif and kind in dispositif.lifts:
            day, by, dispo = entry + rng.randint(20, 70), holder, dispositif.id
        elif rng.random() < 0.5 and plot != "referral_unanswered":
            day, by, dispo = r + rng.randint(30, 150), referent, None
        else:
            continue
        if day < plot_day:
            s.emit(day, BarrierLifted, by, BarrierLiftedData(barrier_id=barrier_id, kind=kind, dispositif_id=dispo,
                                                             structure_id=by))
    last_contact = plot_day
    if entry is not None:
        last_contact = contacts(entry, plot_day, holder)
    elif contacts_from is not None:
        last_contact = contacts(contacts_from, plot_day, holder)

    anchors: list[tuple[str, int, str, int]] = []  # (anchor kind, day, structure, months followed)

    def exit_dispositif(day: int, exit_class: ExitClass, next_step: NextStep | None) -> None:
        if in_dispositif and dispositif and operator:
            s.emit(day, DispositifExited, operator, DispositifExitedData(
                dispositif_id=dispositif.id, structure_id=operator, exit_class=exit_class, next_step=next_step))
            anchors.append(("exit", day, operator, dispositif.follow_months_after_exit))

    def start_job(day: int, lasting: bool, n: int, leave: bool = True) -> tuple[str, int | None]:
        job_id = f"job-{partner_ref}-{n}"
        if lasting:
            contract = weighted(rng, {ContractType.CDI: 4, ContractType.CDD: 3, ContractType.INTERIM: 1,
                                      ContractType.CREATION: 1, ContractType.ALTERNANCE: 1})
            length = None if contract in (ContractType.CDI, ContractType.CREATION) else rng.randint(190, 400)
        else:
            contract = weighted(rng, {ContractType.CDD: 3, ContractType.INTERIM: 3, ContractType.CONTRAT_AIDE: 2})
            length = rng.randint(20, 150)
        # The job first, then the exit it explains: the person is never without a holder in between.
        s.emit(day, JobStarted, holder, JobStartedData(
            job_id=job_id, employer=rng.choice(EMPLOYERS), contract_type=contract,
            hours_per_week=float(rng.choice((35, 35, 35, 24, 28, 30, 20))),
            expected_end=s.day(day + length) if length else None, structure_id=holder))
        anchors.append(("job", day, holder, max(thresholds.checkin_months, default=0)))
        if leave:
            exit_class = ExitClass.EMPLOI_DURABLE if lasting else ExitClass.EMPLOI_TRANSITION
            exit_dispositif(day, exit_class, NextStep(kind=NextStepKind.JOB, target_id=job_id))
        return job_id, (day + length if length else None)

    def taken_up_again(day: int) -> None:
        s.emit(day, ContactRecorded, holder, ContactRecordedData(structure_id=holder,
                                                                 channel=ContactChannel.IN_PERSON, reached=True))
        contacts(day, horizon, holder)

    def lost_then_maybe_found(since: int, detected: int, who: str) -> None:
        """After a loss, the structure that must act finds some people again and keeps them."""
        found = detected + rng.randint(5, 40)
        if rng.random() < preset.reengage_share:
            unreachable.append((since, found))
            s.emit(found, ContactRecorded, who, ContactRecordedData(
                structure_id=who, channel=ContactChannel.PHONE, reached=True))
            contacts(found, horizon, who)
        else:
            unreachable.append((since, horizon + 400))

    lost_after, stale_after = thresholds.lost_after_days, \
        thresholds.no_contact_days - thresholds.at_risk_after_days + thresholds.lost_after_days
    closed_on: int | None = None
    if plot in ("job_lasting", "training"):
        day = plot_day
        if plot == "training":
            training_id = f"trn-{partner_ref}-1"
            end = day + rng.randint(60, 150)
            s.emit(day, TrainingStarted, holder, TrainingStartedData(
                training_id=training_id, qualifying=True, structure_id=holder, expected_end=s.day(end)))
            exit_dispositif(day, ExitClass.SORTIE_POSITIVE, NextStep(kind=NextStepKind.TRAINING,
                                                                     target_id=training_id))
            # The job starts the day the training ends: first the job, then the end of the training.
            job_id, job_end = start_job(end, True, 1, leave=False)
            s.emit(end, TrainingEnded, holder, TrainingEndedData(training_id=training_id, qualifying=True,
                                                                 completed=True))
        else:
            job_id, job_end = start_job(day, True, 1)
        if job_end is not None:  # a long fixed-term contract ends; the structure takes the person up again
            s.emit(job_end, JobEnded, holder, JobEndedData(job_id=job_id, reason=JobEndReason.END_OF_CONTRACT))
            taken_up_again(job_end + rng.randint(0, 3))
    elif plot in ("job_short_held", "job_short_lost"):
        job_id, job_end = start_job(plot_day, False, 1)
        assert job_end is not None
        s.emit(job_end, JobEnded, holder, JobEndedData(
            job_id=job_id, reason=rng.choice((JobEndReason.END_OF_CONTRACT, JobEndReason.END_OF_CONTRACT,
                                              JobEndReason.TRIAL_PERIOD, JobEndReason.RESIGNATION))))
        if plot == "job_short_held":
            taken_up_again(job_end + rng.randint(0, 3))
        else:
            lost_then_maybe_found(job_end, job_end + lost_after, holder)
    elif plot == "stays":
        contacts(last_contact, horizon, holder)
    elif plot == "exit_none" and in_dispositif:
        exit_dispositif(plot_day, ExitClass.AUTRE, None)
        lost_then_maybe_found(plot_day, plot_day + lost_after, holder)
    elif plot in ("exit_none", "silent"):
        plot = script.plot = "silent"
        s.emit(plot_day, ContactRecorded, holder, ContactRecordedData(structure_id=holder,
                                                                      channel=ContactChannel.PHONE, reached=True))
        lost_then_maybe_found(plot_day + 1, plot_day + stale_after, holder)
    elif plot == "referral_unanswered" and main:
        due = main[0] + sla.accept_days
        lost_then_maybe_found(due, due + lost_after, operator or referent)
    elif plot in ("moved_away", "refused_support"):
        exit_dispositif(plot_day, ExitClass.AUTRE, None)
        s.emit(plot_day, CaseClosed, holder, CaseClosedData(
            reason=CloseReason.MOVED_AWAY if plot == "moved_away" else CloseReason.REFUSED_SUPPORT))
        closed_on = plot_day

    # Suivi post-sortie: the structure of each anchor answers the check-ins followup asks for, reaching the
    # person unless they are out of reach at that time.
    for kind, day, who, followed in anchors:
        for months in thresholds.checkin_months:
            if months > followed:
                continue
            due_date = add_months(s.day(day), months)
            due = (due_date - start).days
            if closed_on is not None and due >= closed_on:
                continue
            reached = not any(a <= due < b for a, b in unreachable)
            s.emit(due + rng.randint(1, 10), CheckinDone, who, CheckinDoneData(
                checkin_id=checkin_ref(kind, months, due_date), structure_id=who, reached=reached,
                situation=CheckinOutcome.IN_EMPLOYMENT if reached and kind == "job" else
                CheckinOutcome.SEARCHING if reached else None))
    s.finish()
    return script
