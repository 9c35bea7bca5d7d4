"""The referral lifecycle of one person: state, SLA deadlines on day ticks, re-orientation. Pure.

`decide(state, event, territory)` and `on_day(state, tick, territory)` return a Decision: the new state and
the events to emit. Nothing here reads a clock, a database or a random source: dates come from the events,
ids of emitted events derive from the id of the event that caused them.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from contracts.barriers import BarrierIdentified
from contracts.clock import DayStarted
from contracts.followup import CaseClosed
from contracts.envelope import Envelope
from contracts.pathway import DispositifEntered, DispositifExited, JobEnded, JobStarted
from contracts.people import PersonProfileUpdated, PersonRegistered
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralExpired,
    ReferralExpiredData,
    ReferralFirstAppointmentHeld,
    ReferralIssued,
    ReferralIssuedData,
    ReferralRefused,
    ReferralReminderSent,
    ReferralReminderSentData,
    ReferralWithdrawn,
    ReferralWithdrawnData,
)
from contracts.territory import OrientationRule, ReferralSla, Territory
from contracts.vocabulary import BarrierKind, DeadlineKind, ReferralKind, RefusalReason
from services.referral.domain.orientation import (
    ESCALATION_RULE,
    REORIENTATION_PREFIX,
    Profile,
    additional_rules,
    referent_rule,
)

SOURCE = "ariane/referral"


class DomainRejection(ValueError):
    """An event that can never apply (an answer from a structure the referral was not sent to)."""


class Status(StrEnum):
    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    EXPIRED = "expired"
    CLOSED = "closed"  # the first appointment was held
    WITHDRAWN = "withdrawn"  # called off: a late answer made it unnecessary, or the case was closed


OPEN = frozenset({Status.ISSUED, Status.ACKNOWLEDGED})


class Origin(StrEnum):
    RULE = "rule"  # an orientation rule at registration or on a barrier
    EXIT = "exit"  # a dispositif exit with no next step and nobody holding the person
    REORIENTATION = "reorientation"  # after a refusal or expiry in the organisme référent chain
    ESCALATION = "escalation"  # to the territory coordinator: no structure left to try
    PARTNER = "partner"  # issued by a partner (prescription), tracked with the same lifecycle


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Referral(_Frozen):
    referral_id: str
    kind: ReferralKind
    origin: Origin
    from_structure: str
    to_structure: str
    dispositif_id: str | None = None
    rule: str | None = None
    reason: str
    referent_chain: bool = False  # part of the search for the organisme référent: re-oriented when it fails
    issued_on: date
    acknowledge_due: date
    accept_due: date
    appointment_due: date | None = None
    status: Status = Status.ISSUED
    acknowledged_on: date | None = None
    accepted_on: date | None = None
    refused_on: date | None = None
    refusal_reason: RefusalReason | None = None
    expired_on: date | None = None
    closed_on: date | None = None
    sla_breached: bool = False  # the accept deadline was missed; a later-recorded acceptance dated in time clears it
    followed_up: bool = False  # re-orientation or escalation already decided for this failure
    reminded: tuple[DeadlineKind, ...] = ()
    caused_by: str | None = None  # the failed referral whose re-orientation or escalation this is
    withdrawn_on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class Answer(_Frozen):
    """A partner's answer about a referral not known yet (events may arrive before the referral itself)."""

    event_id: str
    event_type: str
    structure_id: str
    on: date
    reason_code: RefusalReason | None = None


class PersonState(_Frozen):
    person_id: str
    profile: Profile | None = None
    registered_by: str | None = None
    held_by_registrant: bool = False  # the registering structure is the organisme référent itself
    barriers: dict[BarrierKind, str] = Field(default_factory=dict)  # kind -> structure that identified it
    dispositifs: dict[str, str] = Field(default_factory=dict)  # dispositif -> holding structure
    employed: bool = False
    referrals: dict[str, Referral] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)  # duplicate referral id -> the open one it joined
    pending: dict[str, tuple[Answer, ...]] = Field(default_factory=dict)
    fired_rules: tuple[str, ...] = ()
    closed_on: date | None = None  # the case was closed (by a partner or by followup); a later fact reopens it
    # This id turned out to be another person's (intake's merge): its state went there, facts about it follow.
    merged_into: str | None = None

    def open_to(self, structure: str) -> Referral | None:
        return next((r for r in self.referrals.values() if r.is_open and r.to_structure == structure), None)

    @property
    def held(self) -> bool:
        """Somebody holds the person: a referral taken up, a dispositif in progress, or the référent registered
        them itself."""
        return (self.held_by_registrant or bool(self.dispositifs)
                or any(r.status in (Status.ACCEPTED, Status.CLOSED) for r in self.referrals.values()))

    @property
    def failed_structures(self) -> set[str]:
        """Structures of the référent chain that refused or let a referral expire: not tried again."""
        return {r.to_structure for r in self.referrals.values()
                if r.referent_chain and (r.refused_on is not None or r.sla_breached)}


class Decision(_Frozen):
    state: PersonState
    events: tuple[Envelope, ...] = ()


# --- ids, dates -------------------------------------------------------------------------------------------


def derived_id(cause_id: str, suffix: str) -> str:
    """The id of an event caused by `cause_id`: the same cause always gives the same id (fits in 128)."""
    candidate = f"{cause_id}:{suffix}"
    if len(candidate) <= 128:
        return candidate
    return f"h-{hashlib.sha256(candidate.encode()).hexdigest()[:40]}:{suffix[-80:]}"


def new_referral_id(person_id: str, to_structure: str, nth: int) -> str:
    """Orientation referral ids depend on the person, the target and how many referrals came before."""
    digest = hashlib.sha256(f"{person_id}|{to_structure}|{nth}".encode()).hexdigest()[:20]
    return f"ori-{digest}"


def local_day(moment: datetime, territory: Territory) -> date:
    return moment.astimezone(ZoneInfo(territory.timezone)).date()


def day_start(day: date, territory: Territory) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(territory.timezone))


def capped_accept_due(issued_on: date, due: date, sla: ReferralSla) -> date:
    """A partner's due date, but never beyond the territory's ceiling."""
    return min(due, issued_on + timedelta(days=sla.accept_ceiling_days))


# --- issuing ----------------------------------------------------------------------------------------------


def _issue(state: PersonState, cause: Envelope, territory: Territory, *, to: str, from_structure: str, rule: str,
           reason: str, origin: Origin, chain: bool, on: date, when: datetime,
           caused_by: str | None = None) -> tuple[PersonState, list[Envelope]]:
    """Issue an orientation referral unless one is already open to that structure (one open per structure)."""
    if state.open_to(to) is not None or to == from_structure or state.closed_on is not None:
        return state, []
    sla = territory.referral_sla
    referral = Referral(
        referral_id=new_referral_id(state.person_id, to, len(state.referrals)),
        kind=ReferralKind.ORIENTATION, origin=origin, from_structure=from_structure, to_structure=to, rule=rule,
        reason=reason[:500], referent_chain=chain, issued_on=on,
        acknowledge_due=on + timedelta(days=sla.acknowledge_days), accept_due=on + timedelta(days=sla.accept_days),
        caused_by=caused_by,
    )
    event = cause.caused(
        ReferralIssued, source=SOURCE, time=when, subject=state.person_id,
        event_id=derived_id(cause.id, f"issued:{referral.referral_id}"),
        data=ReferralIssuedData(referral_id=referral.referral_id, kind=referral.kind, from_structure=from_structure,
                                to_structure=to, reason=referral.reason, rule=rule, due_date=referral.accept_due),
    )
    referrals = {**state.referrals, referral.referral_id: referral}
    state = _replay_pending(state.model_copy(update={"referrals": referrals}), referral.referral_id, sla)
    issued = state.referrals[referral.referral_id]
    if issued.status is Status.REFUSED:  # its refusal had arrived first
        state, more = _follow_up_failure(state, issued, cause, territory, on, when,
                                         f"Refus de {issued.to_structure} ({issued.refusal_reason})")
        return state, [event, *more]
    return state, [event]


def _orient_new_person(state: PersonState, cause: Envelope, territory: Territory, on: date) -> Decision:
    """Registration: the first primary rule names the organisme référent (unless the registering structure is
    that référent: then it holds the person already); every other rule that applies adds a referral."""
    assert state.profile is not None and state.registered_by is not None
    events: list[Envelope] = []
    barriers = tuple(state.barriers)
    if not state.held and not any(r.referent_chain for r in state.referrals.values()):
        rule = referent_rule(territory, state.profile, on, barriers, registered_by=state.registered_by)
        if rule is not None and rule.to == state.registered_by:
            state = state.model_copy(update={"held_by_registrant": True,
                                             "fired_rules": state.fired_rules + (rule.id,)})
        elif rule is not None:
            state, issued = _issue(state, cause, territory, to=rule.to, from_structure=state.registered_by,
                                  rule=rule.id, reason=rule.reason, origin=Origin.RULE, chain=True, on=on,
                                  when=cause.time)
            state = state.model_copy(update={"fired_rules": state.fired_rules + (rule.id,)})
            events += issued
    state, more = _fire_additional(state, cause, territory, on, state.registered_by)
    return Decision(state=state, events=tuple(events + more))


def _fire_additional(state: PersonState, cause: Envelope, territory: Territory, on: date,
                     default_from: str) -> tuple[PersonState, list[Envelope]]:
    """Non-primary rules (QPV to the Cité de l'emploi, a childcare barrier to Par'Emploi) fire once each."""
    if state.profile is None:
        return state, []
    events: list[Envelope] = []
    for rule in additional_rules(territory, state.profile, on, tuple(state.barriers)):
        if rule.id in state.fired_rules:
            continue
        origin_structure = state.barriers.get(rule.when_barrier, default_from) if rule.when_barrier else default_from
        state, issued = _issue(state, cause, territory, to=rule.to, from_structure=origin_structure, rule=rule.id,
                              reason=rule.reason, origin=Origin.RULE, chain=False, on=on, when=cause.time)
        state = state.model_copy(update={"fired_rules": state.fired_rules + (rule.id,)})
        events += issued
    return state, events


def _next_in_chain(state: PersonState, cause: Envelope, territory: Territory, *, failed_from: str, on: date,
                   when: datetime, why: str, origin: Origin,
                   caused_by: str | None = None) -> tuple[PersonState, list[Envelope]]:
    """After a failure (or an exit with nobody holding the person): the next primary rule that applies among
    structures not yet failed; when none is left, escalate to the territory coordinator."""
    if state.held or state.employed or state.profile is None or state.closed_on is not None:
        return state, []
    rule: OrientationRule | None = referent_rule(territory, state.profile, on, tuple(state.barriers),
                                                 excluded=state.failed_structures)
    if rule is not None:
        if state.open_to(rule.to) is not None:
            return state, []  # the next structure is already asked: nothing to add
        rule_id = rule.id if origin is Origin.EXIT else REORIENTATION_PREFIX + rule.id
        state, issued = _issue(state, cause, territory, to=rule.to, from_structure=failed_from, rule=rule_id,
                              reason=f"{why}. {rule.reason}", origin=origin, chain=True, on=on, when=when,
                              caused_by=caused_by)
        return state, issued
    coordinator = territory.coordinator.id
    if any(r.origin is Origin.ESCALATION and r.is_open for r in state.referrals.values()):
        return state, []
    sender = failed_from if failed_from != coordinator else (state.registered_by or failed_from)
    state, issued = _issue(state, cause, territory, to=coordinator, from_structure=sender, rule=ESCALATION_RULE,
                          reason=f"{why}. Plus aucune structure à essayer: le coordinateur du territoire décide",
                          origin=Origin.ESCALATION, chain=False, on=on, when=when, caused_by=caused_by)
    return state, issued


# --- answers from partners --------------------------------------------------------------------------------


def _with(state: PersonState, referral: Referral) -> PersonState:
    return state.model_copy(update={"referrals": {**state.referrals, referral.referral_id: referral}})


def _apply_answer(referral: Referral, answer: Answer, sla: ReferralSla) -> Referral:
    """The lifecycle table. Terminal facts win over earlier ones; nothing is ever both accepted and expired:

    - acknowledged: issued -> acknowledged; elsewhere only the date is kept.
    - accepted: open -> accepted; expired -> accepted late (sla_breached stays true, counted once); refused
      and closed are final.
    - refused: open -> refused; after acceptance, expiry or closure the refusal is ignored (already decided).
    - first appointment held: closes any referral that is not refused; it implies the acceptance.
    """
    kind, on, status = answer.event_type, answer.on, referral.status
    if kind == ReferralAcknowledged.short_type:
        update: dict = {"acknowledged_on": referral.acknowledged_on or on}
        if status is Status.ISSUED:
            update["status"] = Status.ACKNOWLEDGED
        return referral.model_copy(update=update)
    if kind == ReferralAccepted.short_type:
        if status in OPEN or status is Status.EXPIRED or status is Status.WITHDRAWN:
            # The acceptance's own date decides whether the deadline was met, whenever it is recorded.
            return referral.model_copy(update={
                "status": Status.ACCEPTED, "accepted_on": on, "acknowledged_on": referral.acknowledged_on or on,
                "appointment_due": on + timedelta(days=sla.first_appointment_days),
                "sla_breached": on > referral.accept_due, "withdrawn_on": None})
        return referral
    if kind == ReferralRefused.short_type:
        if status in OPEN:
            return referral.model_copy(update={"status": Status.REFUSED, "refused_on": on,
                                               "refusal_reason": answer.reason_code})
        return referral
    if kind == ReferralFirstAppointmentHeld.short_type:
        if status is Status.REFUSED or status is Status.CLOSED:
            return referral
        accepted_on = referral.accepted_on or on
        return referral.model_copy(update={"status": Status.CLOSED, "closed_on": on, "accepted_on": accepted_on,
                                           "acknowledged_on": referral.acknowledged_on or on,
                                           "sla_breached": accepted_on > referral.accept_due, "withdrawn_on": None})
    raise AssertionError(f"not an answer: {kind}")


def _replay_pending(state: PersonState, referral_id: str, sla: ReferralSla, *,
                    answered_as: str | None = None) -> PersonState:
    """Answers that arrived before their referral apply, in arrival order, once it exists. `answered_as`: the id
    they named, when the referral is known by another (a prescription that joined an open referral). Answers
    from a structure the referral was not sent to leave the waiting room unapplied (see waiting_answers)."""
    key = answered_as or referral_id
    answers = state.pending.get(key, ())
    if not answers:
        return state
    referral = state.referrals[referral_id]
    for answer in answers:
        if answer.structure_id == referral.to_structure:
            referral = _apply_answer(referral, answer, sla)
    pending = {k: v for k, v in state.pending.items() if k != key}
    return _with(state, referral).model_copy(update={"pending": pending})


def _on_answer(state: PersonState, event: Envelope, territory: Territory) -> Decision:
    on = local_day(event.time, territory)
    data = event.data
    answer = Answer(event_id=event.id, event_type=type(event).short_type, structure_id=data.structure_id, on=on,
                    reason_code=getattr(data, "reason_code", None))
    referral_id = state.aliases.get(data.referral_id, data.referral_id)
    referral = state.referrals.get(referral_id)
    if referral is None:
        if any(a.event_id == event.id for a in state.pending.get(referral_id, ())):
            return Decision(state=state)  # the same answer, delivered twice
        pending = {**state.pending, referral_id: state.pending.get(referral_id, ()) + (answer,)}
        return Decision(state=state.model_copy(update={"pending": pending}))
    if data.structure_id != referral.to_structure:
        raise DomainRejection(f"referral {referral_id} was sent to {referral.to_structure}, "
                              f"not to {data.structure_id}")
    before = referral
    referral = _apply_answer(referral, answer, territory.referral_sla)
    state = _with(state, referral)
    events: list[Envelope] = []
    if before.status in OPEN and referral.status is Status.REFUSED:
        state, events = _follow_up_failure(state, referral, event, territory, on, event.time,
                                           f"Refus de {referral.to_structure} ({answer.reason_code})")
    if before.status not in (Status.ACCEPTED, Status.CLOSED) and referral.status in (Status.ACCEPTED, Status.CLOSED):
        state, events = _withdraw_caused(state, referral, event, territory, event.time)
    return Decision(state=state, events=tuple(events))


def _withdrawn_event(state: PersonState, referral: Referral, cause: Envelope, when: datetime, code: str,
                     why: str, territory: Territory) -> Envelope:
    # A back-dated answer withdraws a referral issued after its date: the withdrawal is never dated before the
    # referral it calls off, so every reader orders the two the same way.
    when = max(when, day_start(referral.issued_on, territory))
    return cause.caused(
        ReferralWithdrawn, source=SOURCE, time=when, subject=state.person_id,
        event_id=derived_id(cause.id, f"withdrawn:{referral.referral_id}"),
        data=ReferralWithdrawnData(referral_id=referral.referral_id, structure_id=referral.to_structure,
                                   reason_code=code, reason=why[:500]))


def _withdraw_caused(state: PersonState, answered: Referral, cause: Envelope, territory: Territory,
                     when: datetime) -> tuple[PersonState, list[Envelope]]:
    """A late answer shows the person is held: the re-orientations and escalations its failure caused (and theirs
    in turn) are no longer needed. Open or expired ones are withdrawn; those already answered stay as they are."""
    events: list[Envelope] = []
    causes = [answered.referral_id]
    why = f"{answered.to_structure} a accepté le {answered.accepted_on}"
    day = local_day(when, territory)
    while causes:
        parent = causes.pop()
        for referral in sorted(state.referrals.values(), key=lambda r: r.referral_id):
            if referral.caused_by != parent:
                continue
            causes.append(referral.referral_id)
            if referral.is_open or referral.status is Status.EXPIRED:
                referral = referral.model_copy(update={"status": Status.WITHDRAWN, "withdrawn_on": day})
                state = _with(state, referral)
                events.append(_withdrawn_event(state, referral, cause, when, "answered", why, territory))
    return state, events


def _on_case_closed(state: PersonState, event: Envelope, territory: Territory) -> Decision:
    """The case is closed: every referral still open is withdrawn; nothing is reminded, expired or re-oriented
    until a later fact reopens the case."""
    on = local_day(event.time, territory)
    if state.closed_on is not None and state.closed_on <= on:
        return Decision(state=state)
    state = state.model_copy(update={"closed_on": on})
    events: list[Envelope] = []
    for referral in sorted(state.referrals.values(), key=lambda r: r.referral_id):
        if referral.is_open:
            referral = referral.model_copy(update={"status": Status.WITHDRAWN, "withdrawn_on": on})
            state = _with(state, referral)
            events.append(_withdrawn_event(state, referral, event, event.time, "case_closed",
                                           f"Dossier clos ({event.data.reason})", territory))
    return Decision(state=state, events=tuple(events))


def _follow_up_failure(state: PersonState, referral: Referral, cause: Envelope, territory: Territory, on: date,
                       when: datetime, why: str) -> tuple[PersonState, list[Envelope]]:
    """A referral of the référent chain failed: find the next structure, once per failed referral."""
    if not referral.referent_chain or referral.followed_up:
        return state, []
    state = _with(state, referral.model_copy(update={"followed_up": True}))
    return _next_in_chain(state, cause, territory, failed_from=referral.to_structure, on=on, when=when, why=why,
                          origin=Origin.REORIENTATION, caused_by=referral.referral_id)


# --- the other facts --------------------------------------------------------------------------------------


def _profile_from(event: PersonRegistered) -> Profile:
    d = event.data
    return Profile(birth_year=d.birth_year, rqth=d.rqth, rsa=d.rsa, qpv_resident=d.qpv_resident,
                   single_parent=d.single_parent)


def _on_partner_issued(state: PersonState, event: ReferralIssued, territory: Territory) -> Decision:
    """A partner's own referral follows the same lifecycle; a second one to a structure that already has an open
    referral for the person joins it (its answers apply to the open one)."""
    data = event.data
    if data.referral_id in state.referrals or data.referral_id in state.aliases:
        return Decision(state=state)
    existing = state.open_to(data.to_structure)
    if existing is not None:
        state = state.model_copy(update={"aliases": {**state.aliases, data.referral_id: existing.referral_id}})
        # Answers that named this prescription before it arrived apply to the referral it joined, as they would
        # have, had they come after it.
        state = _replay_pending(state, existing.referral_id, territory.referral_sla, answered_as=data.referral_id)
        joined = state.referrals[existing.referral_id]
        events: list[Envelope] = []
        if joined.status is Status.REFUSED:
            state, events = _follow_up_failure(state, joined, event, territory, local_day(event.time, territory),
                                               event.time, f"Refus de {joined.to_structure} ({joined.refusal_reason})")
        return Decision(state=state, events=tuple(events))
    on = local_day(event.time, territory)
    sla = territory.referral_sla
    referral = Referral(
        referral_id=data.referral_id, kind=data.kind, origin=Origin.PARTNER, from_structure=data.from_structure,
        to_structure=data.to_structure, dispositif_id=data.dispositif_id, rule=data.rule, reason=data.reason,
        issued_on=on, acknowledge_due=on + timedelta(days=sla.acknowledge_days),
        accept_due=capped_accept_due(on, data.due_date, sla),
    )
    return Decision(state=_replay_pending(_with(state, referral), referral.referral_id, sla))


def decide(state: PersonState, event: Envelope, territory: Territory) -> Decision:
    """Apply one event about this person. Events of other types leave the state as it is."""
    on = local_day(event.time, territory)
    if isinstance(event, CaseClosed):
        return _on_case_closed(state, event, territory)
    if state.closed_on is not None and on > state.closed_on:
        state = state.model_copy(update={"closed_on": None})  # a later fact reopens the case
    if isinstance(event, PersonRegistered):
        if state.profile is not None:
            return Decision(state=state)  # a second registration changes nobody's orientation
        state = state.model_copy(update={"profile": _profile_from(event), "registered_by": event.data.structure_id})
        return _orient_new_person(state, event, territory, on)
    if isinstance(event, PersonProfileUpdated):
        if state.profile is None:
            return Decision(state=state)
        changes = {k: v for k in ("birth_year", "rqth", "rsa", "qpv_resident", "single_parent")
                   if (v := getattr(event.data, k)) is not None}
        state = state.model_copy(update={"profile": state.profile.model_copy(update=changes)})
        state, events = _fire_additional(state, event, territory, on, event.data.structure_id)
        return Decision(state=state, events=tuple(events))
    if isinstance(event, BarrierIdentified):
        if event.data.kind in state.barriers:
            return Decision(state=state)
        state = state.model_copy(update={"barriers": {**state.barriers, event.data.kind: event.data.structure_id}})
        state, events = _fire_additional(state, event, territory, on, event.data.structure_id)
        return Decision(state=state, events=tuple(events))
    if isinstance(event, (ReferralAcknowledged, ReferralAccepted, ReferralRefused, ReferralFirstAppointmentHeld)):
        return _on_answer(state, event, territory)
    if isinstance(event, ReferralIssued):
        return _on_partner_issued(state, event, territory)
    if isinstance(event, DispositifEntered):
        holder = territory.holder_of(event.data.dispositif_id) if event.data.dispositif_id in \
            territory.dispositifs_by_id else event.data.structure_id
        return Decision(state=state.model_copy(update={
            "dispositifs": {**state.dispositifs, event.data.dispositif_id: holder}}))
    if isinstance(event, DispositifExited):
        dispositifs = {k: v for k, v in state.dispositifs.items() if k != event.data.dispositif_id}
        state = state.model_copy(update={"dispositifs": dispositifs})
        if event.data.next_step is not None:
            return Decision(state=state)
        state, events = _next_in_chain(state, event, territory, failed_from=event.data.structure_id, on=on,
                                       when=event.time, why=f"Sortie de {event.data.dispositif_id} sans suite",
                                       origin=Origin.EXIT)
        return Decision(state=state, events=tuple(events))
    if isinstance(event, JobStarted):
        return Decision(state=state.model_copy(update={"employed": True}))
    if isinstance(event, JobEnded):
        return Decision(state=state.model_copy(update={"employed": False}))
    return Decision(state=state)


# --- the clock ------------------------------------------------------------------------------------------------


def deadlines(referral: Referral) -> list[tuple[DeadlineKind, date]]:
    """The deadlines still to meet: acknowledge while issued, accept while open, first appointment once
    accepted."""
    out: list[tuple[DeadlineKind, date]] = []
    if referral.status is Status.ISSUED:
        out.append((DeadlineKind.ACKNOWLEDGE, referral.acknowledge_due))
    if referral.is_open:
        out.append((DeadlineKind.ACCEPT, referral.accept_due))
    if referral.status is Status.ACCEPTED and referral.appointment_due is not None:
        out.append((DeadlineKind.FIRST_APPOINTMENT, referral.appointment_due))
    return out


def next_check(referral: Referral, sla: ReferralSla) -> date | None:
    """The first day a tick may change something for this referral (a reminder or the expiry), or None."""
    days = [due - timedelta(days=sla.remind_days_before) for kind, due in deadlines(referral)
            if kind not in referral.reminded]
    if referral.is_open:
        days.append(referral.accept_due + timedelta(days=1))
    return min(days) if days else None


def next_checks(state: PersonState, sla: ReferralSla) -> dict[str, date | None]:
    """The first day a tick may change each of the person's referrals. None for all while the case is closed:
    `on_day` does nothing then, and a day kept in the past would bring the person back on every tick (a tick's
    work must follow what is due, not the people ever closed). The fact that reopens the case writes them
    again."""
    if state.closed_on is not None:
        return {referral_id: None for referral_id in state.referrals}
    return {referral_id: next_check(r, sla) for referral_id, r in state.referrals.items()}


def on_day(state: PersonState, tick: DayStarted, territory: Territory) -> Decision:
    """A day started. A deadline within `remind_days_before` days gets one reminder; an accept deadline that
    passed expires the referral (only the accept deadline expires: acknowledging and the first appointment
    are nudged by reminders, since the structure has answered or holds the person). An expired referral of the
    référent chain is re-oriented, or escalated to the coordinator."""
    day = tick.data.day
    sla = territory.referral_sla
    when = day_start(day, territory)
    events: list[Envelope] = []
    if state.closed_on is not None:
        return Decision(state=state)
    for referral_id in sorted(state.referrals):
        referral = state.referrals[referral_id]
        if referral.is_open and day > referral.accept_due:
            referral = referral.model_copy(update={"status": Status.EXPIRED, "expired_on": day,
                                                   "sla_breached": True})
            state = _with(state, referral)
            events.append(_expired_event(state, referral, tick, when))
            state, more = _follow_up_failure(state, referral, tick, territory, day, when,
                                             f"Sans réponse de {referral.to_structure} au {referral.accept_due}")
            events += more
            continue
        # A structure that already has the person in one of its dispositifs (its entry came before its answer)
        # is not nudged to answer for someone it accompanies; the expiry still stands if no answer ever comes.
        holds_them = referral.to_structure in state.dispositifs.values()
        for kind, due in deadlines(referral):
            if holds_them and kind in (DeadlineKind.ACKNOWLEDGE, DeadlineKind.ACCEPT):
                continue
            if kind not in referral.reminded and day >= due - timedelta(days=sla.remind_days_before):
                referral = referral.model_copy(update={"reminded": referral.reminded + (kind,)})
                events.append(tick.caused(
                    ReferralReminderSent, source=SOURCE, time=when, subject=state.person_id,
                    event_id=derived_id(tick.id, f"reminder:{kind}:{referral.referral_id}:{state.person_id}"),
                    data=ReferralReminderSentData(referral_id=referral.referral_id,
                                                  structure_id=referral.to_structure, deadline=kind, due_date=due)))
        state = _with(state, referral)
    return Decision(state=state, events=tuple(events))


def _expired_event(state: PersonState, referral: Referral, tick: DayStarted, when: datetime) -> Envelope:
    return tick.caused(
        ReferralExpired, source=SOURCE, time=when, subject=state.person_id,
        event_id=derived_id(tick.id, f"expired:{referral.referral_id}:{state.person_id}"),
        data=ReferralExpiredData(referral_id=referral.referral_id, structure_id=referral.to_structure,
                                 deadline=DeadlineKind.ACCEPT, due_date=referral.accept_due))
