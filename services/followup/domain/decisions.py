"""The followup decisions, pure: a person's state on a day, and what to emit when it changes.

Nothing here reads a clock, a database or a broker: `decide(file, today, cause, rules)` takes the person's
facts, what was already emitted for them, the current day and the thresholds, and returns the new file and
the events to emit. The handlers persist the file and put the events in the outbox.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.followup import (
    CaseClosed, CaseClosedData, CheckinDue, CheckinDueData, PersonAtRisk, PersonAtRiskData, PersonLost,
    PersonLossCorrected, PersonLossCorrectedData, PersonLostData, PersonReengaged, PersonReengagedData,
)
from contracts.territory import FollowupThresholds, Territory
from services.followup.domain.facts import CONTRACT_ZONE, Fact
from services.followup.domain.parcours import (ACCOMPANIED, DISPOSITIF, EMPLOYMENT, TRAINING, Anchor, Gap, Parcours,
                                               fold)
from services.followup.domain.unknown_facts import KEPT, Dropped, settle, unknown_answers

SOURCE = "ariane/followup"
GAP_REASONS = ("referral_expired", "exit_without_next_step", "job_ended_unheld")  # episodes a fold's gap opens


class State(StrEnum):
    """Exactly one per known person: the conservation ledger counts these."""

    AWAITING_ORIENTATION = "awaiting_orientation"
    REFERRED = "referred"
    ACCOMPANIED = "accompanied"
    IN_DISPOSITIF = "in_dispositif"
    IN_TRAINING = "in_training"
    IN_EMPLOYMENT = "in_employment"
    BETWEEN_STEPS = "between_steps"
    AT_RISK = "at_risk"
    LOST = "lost"
    CLOSED = "closed"


HELD_STATES = {EMPLOYMENT: State.IN_EMPLOYMENT, TRAINING: State.IN_TRAINING, DISPOSITIF: State.IN_DISPOSITIF,
               ACCOMPANIED: State.ACCOMPANIED}


# Kinds of dispositif in which the person works or trains (the SIAE employs them in the IAE; a training keeps
# them busy): silence there is no sign. Every other dispositif (Cité de l'emploi, PLIE, Par'Emploi,
# CARBUR'PERA...) is an accompaniment: its operator must keep in touch, and a silence there counts.
SILENCE_IS_NO_SIGN = frozenset({"iae", "formation"})


def accompanying_dispositifs(territory: Territory) -> frozenset[str]:
    """The territory's dispositifs whose hold goes stale without contact, as an accompaniment does."""
    return frozenset(d.id for d in territory.dispositifs if d.kind not in SILENCE_IS_NO_SIGN)


@dataclass(frozen=True)
class Rules:
    thresholds: FollowupThresholds = FollowupThresholds()
    coordinator: str = "coordinator"
    follow_months: dict[str, int] = field(default_factory=dict)  # dispositif -> months of post-exit follow-up
    remind_days: int = 3  # a pending referral this close to its due date shows on the worklist
    zone: ZoneInfo = CONTRACT_ZONE  # the territory's time zone: what "a day" means
    accompanying: frozenset[str] = frozenset()  # dispositifs where a silence counts (accompanying_dispositifs)
    # How long an answer waits for a referral not received yet (the referral service's setting); None: no bound.
    answer_wait_days: int | None = None
    # How long an exit, a job end or a check-in answer waits for the stay, job or check-in it answers before it is
    # dropped and reported (domain/unknown_facts.py); None: it waits, holding nothing, and is never reported.
    fact_wait_days: int | None = None

    @classmethod
    def of(cls, territory: Territory, answer_wait_days: int | None = None,
           fact_wait_days: int | None = None) -> Rules:
        return cls(territory.followup, territory.coordinator.id,
                   {d.id: d.follow_months_after_exit for d in territory.dispositifs},
                   territory.referral_sla.remind_days_before, ZoneInfo(territory.timezone),
                   accompanying_dispositifs(territory), answer_wait_days, fact_wait_days)


@dataclass(frozen=True)
class Checkin:
    id: str
    structure: str
    due_on: date
    months: int
    anchor: str


@dataclass(frozen=True)
class Status:
    state: State
    reason: str | None = None
    since: date | None = None
    structure_to_act: str | None = None
    risk_key: str | None = None  # identifies the episode, so at_risk and lost are emitted once per episode
    at_risk_on: date | None = None
    lost_on: date | None = None
    close_reason: str | None = None
    closed_by_followup: bool = False
    checkins_due: tuple[Checkin, ...] = ()
    checkins_missed: tuple[Checkin, ...] = ()
    wake_on: date | None = None
    holders: tuple[str, ...] = ()
    caseload: tuple[tuple[str, str | None], ...] = ()  # (structure, counsellor or None) of each holder
    referrals_pending: tuple[tuple[str, str, date | None], ...] = ()


@dataclass(frozen=True)
class Emitted:
    """What was already emitted for a person, so each decision is emitted once."""

    at_risk: frozenset[str] = frozenset()
    lost: dict[str, str] = field(default_factory=dict)  # risk key -> reason
    reengaged: frozenset[str] = frozenset()
    checkins: frozenset[str] = frozenset()
    closed: str | None = None
    corrected: frozenset[str] = frozenset()  # episodes withdrawn because a late fact disproves them


@dataclass(frozen=True)
class PersonFile:
    person_id: str
    facts: tuple[Fact, ...] = ()
    emitted: Emitted = Emitted()

    def with_fact(self, fact: Fact) -> PersonFile:
        if any(f.id == fact.id for f in self.facts):
            return self
        return replace(self, facts=self.facts + (fact,))


@dataclass(frozen=True)
class Decision:
    file: PersonFile
    status: Status
    events: tuple[Envelope, ...] = ()
    reengaged_after_days: tuple[tuple[str, str, int], ...] = ()  # (reason, by, days lost) for metrics
    dropped: tuple[Dropped, ...] = ()  # answers whose fact never came: to report to their senders


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def derived_id(cause_id: str, *parts: str) -> str:
    """A deterministic id for an event caused by `cause_id`, at most 128 characters."""
    raw = ":".join((cause_id, *parts))
    return raw if len(raw) <= 128 else f"{cause_id[:80]}:{short_hash(raw)}"


# ---- rules, one named predicate or computation each -------------------------------------------------------

def checkins_of(p: Parcours, person_id: str, rules: Rules) -> list[Checkin]:
    """Post-exit and post-job check-ins: at the configured months after each exit and each job start.

    A dispositif with follow_months_after_exit = N is followed only up to N months (0: no post-exit check-in)."""
    return [c for a in p.anchors for c in _anchored(a, p, person_id, rules)]


def _anchored(a: Anchor, p: Parcours, person_id: str, rules: Rules) -> list[Checkin]:
    limit = rules.follow_months.get(a.ref, max(rules.thresholds.checkin_months, default=0)) \
        if a.kind == "exit" else max(rules.thresholds.checkin_months, default=0)
    who = a.structure or p.last_holder or accountable(p) or rules.coordinator
    out = []
    for months in rules.thresholds.checkin_months:
        if months <= limit:
            cid = f"chk-{short_hash(person_id, a.kind, a.ref, a.day.isoformat())}-{a.kind}-{months}m"
            out.append(Checkin(cid, who, add_months(a.day, months), months, a.kind))
    return out


def known_checkins(p: Parcours, file: PersonFile, rules: Rules) -> dict[str, date | None]:
    """The check-ins followup knows for a person, each with the day the fact it is anchored on arrived (None: not
    known, or issued already): what a check-in's answer may answer (domain/unknown_facts.py)."""
    out: dict[str, date | None] = dict.fromkeys(file.emitted.checkins)
    for a in p.anchors:
        for c in _anchored(a, p, file.person_id, rules):
            out.setdefault(c.id, a.received)
    return out


def parcours_of(file: PersonFile, today: date | None, rules: Rules) -> Parcours:
    """The fold of a person's facts up to `today`, without the answers whose fact followup does not hold. An
    answer to a check-in never issued is rare: only then is the fold done twice, the first giving the check-ins
    (anchored on exits and job starts, which no check-in answer moves)."""
    def folded(checkins: dict[str, date | None] | None) -> Parcours:
        return fold(file.facts, until=today, answer_wait_days=rules.answer_wait_days,
                    fact_wait_days=rules.fact_wait_days, checkins=checkins)

    p = folded(None)
    if not any(f.kind == "checkin_done" and f.ref not in file.emitted.checkins and (today is None or f.day <= today)
               for f in file.facts):
        return p
    return folded(known_checkins(p, file, rules))


def accountable(p: Parcours) -> str | None:
    """The organisme référent as followup knows it: the target of the latest orientation referral, else the
    structure that registered the person. A person registered by their own référent (France Travail, the
    Mission locale, ...) gets no orientation referral; that structure has their file and sends their
    prescriptions, so it, not the territory's coordinator, answers for them when nobody takes them on."""
    return p.referent or p.registered_by


def structure_to_act(gap_holder: str | None, p: Parcours, rules: Rules) -> str:
    """The last holder, else the organisme référent (see `accountable`), else the territory coordinator."""
    return gap_holder or accountable(p) or rules.coordinator


def lasting_closure_days(p: Parcours, person_id: str, rules: Rules) -> dict[str, tuple[date, Checkin | None]]:
    """For each lasting job: the day it may close the case (`close_after_lasting_months` after its start) and its
    last check-in: the case stays open, followed, until that check-in is made or its grace has passed."""
    th = rules.thresholds
    job_checkins = [c for c in checkins_of(p, person_id, rules) if c.anchor == "job"]
    out = {}
    for ref, start in p.lasting_jobs.items():
        own = [c for c in job_checkins if c.id.startswith(f"chk-{short_hash(person_id, 'job', ref, start.isoformat())}-")]
        out[ref] = (add_months(start, th.close_after_lasting_months), max(own, key=lambda c: c.months, default=None))
    return out


def closure(p: Parcours, today: date, rules: Rules, person_id: str = "") -> tuple[str, bool, date | None] | None:
    """(reason, decided by followup, next day a closure could fall) when the case is closed on `today`."""
    th = rules.thresholds
    if p.closed is not None:
        return p.closed[0], False, None
    if p.situation_moved_away:
        return "moved_away", True, None
    for ends, last in lasting_closure_days(p, person_id, rules).values():
        if today >= ends and (last is None or last.id in p.checkins_done
                              or today >= last.due_on + timedelta(days=th.checkin_grace_days)):
            return "lasting_employment", True, None
    if p.last_fact_day is not None and today >= p.last_fact_day + timedelta(days=th.close_after_inactive_days):
        return "inactivity", True, None
    return None


def evaluate(p: Parcours, today: date | None, person_id: str, rules: Rules) -> Status:
    """The person's state on `today` (None: before the first tick, when no deadline can be decided)."""
    th = rules.thresholds
    pending = tuple((r, to, due) for r, (to, due) in sorted(p.pending.items()))
    holders = tuple(sorted({h.structure for h in p.holds.values() if h.structure}))
    caseload = tuple(sorted({(h.structure, h.counsellor) for h in p.holds.values() if h.structure},
                            key=lambda pair: (pair[0], pair[1] or "")))
    if today is None:
        state = (max((HELD_STATES[h.kind] for h in p.holds.values()), key=_held_rank) if p.holds else
                 State.REFERRED if pending else State.BETWEEN_STEPS if p.gap else State.AWAITING_ORIENTATION)
        first = min((a.day for a in p.anchors), default=p.last_fact_day)
        return Status(state, holders=holders, caseload=caseload, referrals_pending=pending, wake_on=first)
    wake: list[date] = []
    for ends, last in lasting_closure_days(p, person_id, rules).values():
        wake.append(ends if last is None else max(ends, last.due_on + timedelta(days=th.checkin_grace_days)))
    if p.last_fact_day is not None:
        wake.append(p.last_fact_day + timedelta(days=th.close_after_inactive_days))
    # A pending referral shows on the worklist from `remind_days` before its due date: decided on that tick.
    wake += [d for _r, _to, due in pending if due is not None
             for d in (due - timedelta(days=rules.remind_days), due + timedelta(days=1)) if d > today]
    closed = closure(p, today, rules, person_id)
    if closed:
        return Status(State.CLOSED, close_reason=closed[0], closed_by_followup=closed[1])

    gap: Gap | None = p.gap
    if held_by_accompaniment_only(p, rules):
        # Accompanied but never heard of: the hold goes stale after no_contact_days without a contact.
        last = p.last_contact or min(h.since for h in p.holds.values())
        stale_on = last + timedelta(days=th.no_contact_days)
        if today >= stale_on:
            gap = Gap(last, "no_contact", silent_holder(p))
        else:
            wake.append(stale_on)
    status: Status
    if gap is not None and (gap.reason == "no_contact" or not p.holds) and not pending:
        grace = th.no_contact_days - th.at_risk_after_days if gap.reason == "no_contact" else 0
        at_risk_on = gap.since + timedelta(days=th.at_risk_after_days + grace)
        lost_on = gap.since + timedelta(days=th.lost_after_days + grace)
        state = State.LOST if today >= lost_on else State.AT_RISK if today >= at_risk_on else State.BETWEEN_STEPS
        wake += [d for d in (at_risk_on, lost_on) if d > today]
        status = Status(state, gap.reason, gap.since, structure_to_act(gap.last_holder, p, rules), gap.key,
                        at_risk_on, lost_on)
    elif p.holds:
        status = Status(max((HELD_STATES[h.kind] for h in p.holds.values()), key=_held_rank))
    elif pending:
        status = Status(State.REFERRED)
    else:
        status = Status(State.AWAITING_ORIENTATION)

    checkins = checkins_of(p, person_id, rules)
    # A check-in is on the worklist from its due date until it is made reaching the person: "due" during the
    # grace days, "missed" after. A missed one puts the person at risk unless they were reached since its date.
    due = tuple(c for c in checkins if c.due_on <= today and not p.checkins_done.get(c.id, False))
    missed_on = {c.id: c.due_on + timedelta(days=th.checkin_grace_days) for c in checkins}
    missed = tuple(c for c in due if today >= missed_on[c.id])
    unreached = tuple(c for c in missed if not (p.last_contact and p.last_contact > c.due_on))
    wake += [d for c in checkins for d in (c.due_on, missed_on[c.id]) if d > today]
    if unreached and status.state not in (State.LOST, State.AT_RISK):
        first = min(unreached, key=lambda c: (c.due_on, c.id))
        status = Status(State.AT_RISK, "checkin_missed", first.due_on, first.structure, f"checkin_missed:{first.id}")
    return replace(status, checkins_due=due, checkins_missed=missed, wake_on=min(wake, default=None),
                   holders=holders, caseload=caseload, referrals_pending=pending)


def held_by_accompaniment_only(p: Parcours, rules: Rules) -> bool:
    """Whether every hold on the person is an accompaniment (a structure's, or an accompaniment dispositif's:
    `rules.accompanying`), so that the person is followed only as long as someone keeps in touch. A job, a
    training or a dispositif where the person works (the IAE) holds them whatever the silence."""
    return bool(p.holds) and all(
        h.kind == ACCOMPANIED or (h.kind == DISPOSITIF and key.removeprefix("disp:") in rules.accompanying)
        for key, h in p.holds.items())


def silent_holder(p: Parcours) -> str | None:
    """Who must act on a silence: the last holder if it still holds the person (a handover's exit can leave the
    structure handing over as the last holder), else the structure of the latest hold. A refused referral's
    issuer holding them in the background (another structure took them on since) is not the one: the
    structure that took them on and let them go is, as for partner story 50's Cité."""
    holding = {h.structure for h in p.holds.values() if h.structure}
    if p.last_holder in holding:
        return p.last_holder
    latest = max((h for h in p.holds.values() if h.structure and not h.in_background), key=lambda h: h.since,
                 default=None)
    return latest.structure if latest else p.last_holder


def _held_rank(state: State) -> int:
    return [State.ACCOMPANIED, State.IN_DISPOSITIF, State.IN_TRAINING, State.IN_EMPLOYMENT].index(state)


def status_of(file: PersonFile, today: date | None, rules: Rules) -> Status:
    p = parcours_of(file, today, rules)
    return wake_for_dated_ahead(evaluate(p, today, file.person_id, rules), file, today)


def wake_for_dated_ahead(status: Status, file: PersonFile, today: date | None) -> Status:
    """A fact dated after today (a partner's clock ahead of the territory's, an answer recorded just before
    midnight) counts only from its own day, so that day's tick must decide for the person again."""
    if today is None:
        return status
    ahead = min((f.day for f in file.facts if f.day > today), default=None)
    if ahead is None or (status.wake_on is not None and status.wake_on <= ahead):
        return status
    return replace(status, wake_on=ahead)


# ---- decisions -------------------------------------------------------------------------------------------

def decide(file: PersonFile, today: date | None, cause: Envelope, rules: Rules,
           under_review: bool = False) -> Decision:
    """What to emit for a person on `today`, after `cause` (a new fact or a clock tick).

    `under_review`: the person's id may be a duplicate of another (an identity review is pending). Their
    at-risk and lost alerts are held back until the coordinator decides, so one person never gives two
    alerts; a decision of "different people" lets them through on the next decision.

    Each episode (risk key) gets person.at_risk before person.lost, once; a lost episode that no longer
    stands (someone holds the person, or a late fact shows they were held) gets person.reengaged, never a
    rewrite of the person.lost already emitted. Check-ins are emitted once when due; case.closed once."""
    p = parcours_of(file, today, rules)
    status = wake_for_dated_ahead(evaluate(p, today, file.person_id, rules), file, today)
    if today is None:
        return Decision(file, status)
    file, dropped, status = _settle_waiting_answers(file, p, today, rules, status)
    em = file.emitted
    # Decided today: a late fact dated in the past does not date what it causes in the past.
    start_of_today = datetime.combine(today, time(0), rules.zone)
    when = start_of_today if isinstance(cause, DayStarted) else max(cause.time, start_of_today)
    out: list[Envelope] = []
    subject = file.person_id

    def make(cls: type[Envelope], data: object, *parts: str) -> Envelope:
        return cls(id=derived_id(cause.id, *parts, short_hash(subject)), source=SOURCE, subject=subject,
                   time=when, correlationid=cause.correlationid or cause.id, causationid=cause.id, data=data)

    reengaged, corrected = set(em.reengaged), set(em.corrected)
    metrics = []
    for key in sorted(em.at_risk | set(em.lost)):
        # An episode whose gap the facts, late ones included, never had: the alert was wrong, not the person lost.
        reason, _, since = key.partition(":")
        if key in corrected or key in reengaged or key == status.risk_key or status.state == State.CLOSED:
            continue
        if reason == "checkin_missed":  # disproved by the check-in itself, made (dated) within its grace days
            checkin = next((c for c in checkins_of(p, file.person_id, rules) if c.id == since), None)
            reached_on = p.checkins_reached_on.get(since)
            if checkin is None or reached_on is None or \
                    reached_on >= checkin.due_on + timedelta(days=rules.thresholds.checkin_grace_days):
                continue
            since = checkin.due_on.isoformat()
        elif reason not in GAP_REASONS or key in p.gaps_opened:
            continue
        held_by = status.holders[0] if status.holders else p.last_holder or status.structure_to_act
        if held_by is None:
            continue
        out.append(make(PersonLossCorrected, PersonLossCorrectedData(
            reason=reason, since=date.fromisoformat(since), was_lost=key in em.lost, held_by=held_by),
            "loss_corrected", key))
        corrected.add(key)
    for key, reason in sorted(em.lost.items()):
        if key in reengaged or key in corrected or key == status.risk_key or status.state == State.CLOSED:
            continue
        by, on = p.closures.get(key, (None, None))
        if by is None and reason == "no_contact" and p.last_contact_by in status.holders:
            by = p.last_contact_by  # a silence ends with the contact that broke it: that structure found them
        by = by or (status.holders[0] if status.holders else p.last_contact_by or status.structure_to_act)
        on = on or p.last_contact or today
        lost_since = date.fromisoformat(key.rsplit(":", 1)[1])
        if by is None:
            continue
        out.append(make(PersonReengaged, PersonReengagedData(by_structure=by, lost_since=lost_since,
                                                             reengaged_on=max(on, lost_since)), "reengaged", key))
        reengaged.add(key)
        metrics.append((reason, by, (max(on, lost_since) - lost_since).days))

    at_risk, lost = set(em.at_risk), dict(em.lost)
    if status.state in (State.AT_RISK, State.LOST) and status.risk_key and not under_review:
        key = status.risk_key
        if key not in at_risk:
            out.append(make(PersonAtRisk, PersonAtRiskData(reason=status.reason, since=status.since,
                                                           structure_to_act=status.structure_to_act),
                            "at_risk", key))
            at_risk.add(key)
        if status.state == State.LOST and key not in lost:
            out.append(make(PersonLost, PersonLostData(reason=status.reason, since=status.since,
                                                       structure_to_act=status.structure_to_act,
                                                       detected_on=today), "lost", key))
            lost[key] = status.reason

    checkins = set(em.checkins)
    for c in status.checkins_due:
        if c.id not in checkins and status.state != State.CLOSED:
            out.append(make(CheckinDue, CheckinDueData(checkin_id=c.id, structure_id=c.structure, due_on=c.due_on,
                                                       months_after=c.months, anchor=c.anchor), "checkin", c.id))
            checkins.add(c.id)

    closed = em.closed
    if status.state == State.CLOSED and status.closed_by_followup and em.closed != status.close_reason:
        out.append(make(CaseClosed, CaseClosedData(reason=status.close_reason), "closed", status.close_reason))
        closed = status.close_reason
    emitted = Emitted(frozenset(at_risk), lost, frozenset(reengaged), frozenset(checkins), closed,
                      frozenset(corrected))
    return Decision(replace(file, emitted=emitted), status, tuple(out), tuple(metrics), dropped)


def _settle_waiting_answers(file: PersonFile, p: Parcours, today: date, rules: Rules, status: Status
                            ) -> tuple[PersonFile, tuple[Dropped, ...], Status]:
    """The answers waiting for their fact: let go of the record of those that count, drop those whose wait ended
    (to be reported), and wake on the day after the next wait ends."""
    if not any(KEPT in f.info for f in file.facts):
        return file, (), status
    unknown = unknown_answers([f for f in file.facts if f.day <= today], rules.fact_wait_days,
                              known_checkins(p, file, rules))
    facts, dropped, wake = settle(file.facts, unknown, today, rules.fact_wait_days)
    if wake is not None and (status.wake_on is None or wake < status.wake_on):
        status = replace(status, wake_on=wake)
    return replace(file, facts=facts), dropped, status


def merge(kept: PersonFile, merged: PersonFile) -> PersonFile:
    """Every fact about the merged id now belongs to the kept one; what was emitted for either stays emitted."""
    facts = {f.id: f for f in (*kept.facts, *merged.facts)}
    a, b = kept.emitted, merged.emitted
    emitted = Emitted(a.at_risk | b.at_risk, {**b.lost, **a.lost}, a.reengaged | b.reengaged,
                      a.checkins | b.checkins, a.closed or b.closed, a.corrected | b.corrected)
    return PersonFile(kept.person_id, tuple(sorted(facts.values(), key=lambda f: f.order)), emitted)

