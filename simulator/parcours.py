"""The ground-truth model of who holds a person, written from the followup rules, in plain Python.

It reads only the partner events of the simulated year and the referral events the referral service is
expected to emit (orientations by non-primary rules, expiries). README.md ("Ground-truth rules") states the
rules in words. In short:

* holds: a reached contact or an accepted referral by S -> S accompanies the person; a refusal -> the issuer
  accompanies them (while another structure holds them, that one stays the last holder); dispositif entered ->
  held by it; job or training started -> held by it. A registration alone holds nobody (the référent registered
  them; contacts show it holds them).
* releases: a dispositif exit ends the dispositif and the operator's accompaniment; job and training ends
  end theirs; an expired referral ends the accompaniment it created. When the last hold ends, a gap opens
  (reason exit_without_next_step, job_ended_unheld or referral_expired), since that day. An expired referral
  with nobody holding the person opens a referral_expired gap since its due date.
* stale accompaniment: when every hold is an accompaniment (a structure's, or a dispositif's other than the IAE
  or a training, where the person works) and nothing touched the person (contact reached,
  barrier, acceptance, entry, exit, job or training start, check-in reached) for no_contact_days, a gap
  no_contact opens since the last touch, with (no_contact_days - at_risk_after_days) days of grace.
* a gap with no pending referral: at risk on since + at_risk_after_days (+ grace), lost on since +
  lost_after_days (+ grace); the structure to act is the last holder, else the référent (the target of the
  last orientation), else the coordinator. Someone holding them again re-engages them.
* check-ins: 1, 3, 6, 12 months after each job start, and after each exit up to the dispositif's
  follow_months_after_exit; missed after checkin_grace_days unless done and reached or a touch after the due
  day: the person is flagged at risk (checkin_missed) unless already at risk or lost.
* closures: a partner's case.closed; followup closes after close_after_lasting_months of a lasting job (CDI,
  creation, or a contract of 183 days or more).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from contracts.territory import Territory

ACCOMPANIED, DISPOSITIF, TRAINING, EMPLOYMENT = "accompanied", "dispositif", "training", "employment"
STARTS = ("registered", "referral_issued", "referral_accepted", "referral_appointment", "dispositif_entered",
          "job_started", "training_started", "contact", "checkin_done", "barrier")
STOPS = ("referral_refused", "referral_expired", "dispositif_exited", "job_ended", "training_ended")
PRECEDENCE = {k: 0 for k in STARTS} | {k: 1 for k in STOPS} | {"case_closed": 2}


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Fact:
    """One fact about a person: `order` sorts them as followup does (time, start before stop, id)."""

    order: tuple[str, int, str]
    day: date
    kind: str
    structure: str | None = None
    ref: str | None = None
    info: tuple[tuple[str, object], ...] = ()

    def get(self, key: str) -> object:
        return dict(self.info).get(key)


@dataclass
class Hold:
    structure: str | None
    kind: str
    since: date
    origin: str | None = None


@dataclass
class Episode:
    key: str
    reason: str
    since: date
    structure_to_act: str
    at_risk_on: date | None = None
    lost_on: date | None = None  # the day the loss is detected
    reengaged_on: date | None = None
    reengaged_by: str | None = None


@dataclass
class Parcours:
    holds: dict[str, Hold] = field(default_factory=dict)
    pending: dict[str, tuple[str, date | None]] = field(default_factory=dict)
    issuers: dict[str, str] = field(default_factory=dict)
    referent: str | None = None  # the target of the latest orientation referral
    registered_by: str | None = None  # who registered the person: their référent until oriented
    last_holder: str | None = None
    gap: tuple[date, str, str | None] | None = None  # since, reason, last holder
    closures: dict[str, tuple[str | None, date]] = field(default_factory=dict)
    last_contact: date | None = None
    last_contact_by: str | None = None
    last_fact_day: date | None = None
    lasting_jobs: dict[str, date] = field(default_factory=dict)
    anchors: list[tuple[str, str, date, str | None]] = field(default_factory=list)
    checkins_done: dict[str, bool] = field(default_factory=dict)
    closed: tuple[str, date] | None = None


def gap_key(reason: str, since: date) -> str:
    return f"{reason}:{since.isoformat()}"


def _touch(p: Parcours, f: Fact) -> None:
    if p.last_contact is None or f.day >= p.last_contact:
        p.last_contact, p.last_contact_by = f.day, f.structure or p.last_contact_by


def _hold(p: Parcours, key: str, hold: Hold, f: Fact) -> None:
    if p.gap is not None:
        p.closures[gap_key(p.gap[1], p.gap[0])] = (hold.structure, f.day)
        p.gap = None
    if p.closed is not None and p.closed[1] < f.day:
        p.closed = None
    p.holds[key] = hold
    if hold.structure:
        p.last_holder = hold.structure


def _release(p: Parcours, keys: list[str], f: Fact) -> None:
    released = [p.holds.pop(k) for k in keys if k in p.holds]
    for hold in released:
        p.last_holder = hold.structure or p.last_holder
    if released and not p.holds and p.gap is None:
        reason = {"job_ended": "job_ended_unheld", "referral_expired": "referral_expired",
                  "referral_refused": "referral_expired"}.get(f.kind, "exit_without_next_step")
        p.gap = (f.day, reason, p.last_holder)


def apply(p: Parcours, f: Fact) -> None:
    k, s, ref = f.kind, f.structure, f.ref or ""
    p.last_fact_day = max(p.last_fact_day or f.day, f.day)
    if k == "registered":
        p.registered_by = p.registered_by or s
    elif k == "contact":
        if f.get("reached"):
            _touch(p, f)
            _hold(p, f"acc:{s}", Hold(s, ACCOMPANIED, f.day), f)
    elif k == "barrier":
        _touch(p, f)
    elif k == "referral_issued":
        p.pending[ref] = (s or "", f.get("due"))  # type: ignore[assignment]
        if f.get("from"):
            p.issuers[ref] = str(f.get("from"))
        if f.get("kind") == "orientation":
            p.referent = s
    elif k in ("referral_accepted", "referral_appointment"):
        p.pending.pop(ref, None)
        _touch(p, f)
        _hold(p, f"acc:{s}", Hold(s, ACCOMPANIED, f.day, origin=ref), f)
    elif k == "referral_refused":
        p.pending.pop(ref, None)
        issuer = p.issuers.get(ref)
        if issuer and any(h.structure not in (None, issuer) and h.kind in (ACCOMPANIED, DISPOSITIF)
                          for h in p.holds.values()):
            p.holds[f"acc:{issuer}"] = Hold(issuer, ACCOMPANIED, f.day)  # held elsewhere: that one acts on silence
        elif issuer:
            _hold(p, f"acc:{issuer}", Hold(issuer, ACCOMPANIED, f.day), f)
    elif k == "referral_expired":
        p.pending.pop(ref, None)
        acc = p.holds.get(f"acc:{s}")
        if acc is not None and acc.origin == ref:
            _release(p, [f"acc:{s}"], f)
        elif not p.holds and p.gap is None:
            due = f.get("due") or f.day
            p.gap = (min(due, f.day), "referral_expired", p.last_holder)  # type: ignore[type-var]
    elif k == "dispositif_entered":
        _touch(p, f)
        _hold(p, f"disp:{ref}", Hold(s, DISPOSITIF, f.day), f)
    elif k == "dispositif_exited":
        _touch(p, f)
        p.anchors.append(("exit", ref, f.day, s))
        _release(p, [f"disp:{ref}", f"acc:{s}"], f)
    elif k == "job_started":
        _touch(p, f)
        if f.get("lasting"):
            p.lasting_jobs[ref] = f.day
        p.anchors.append(("job", ref, f.day, s))
        _hold(p, f"job:{ref}", Hold(s, EMPLOYMENT, f.day), f)
    elif k == "job_ended":
        p.lasting_jobs.pop(ref, None)
        _release(p, [f"job:{ref}"], f)
    elif k == "training_started":
        _touch(p, f)
        _hold(p, f"trn:{ref}", Hold(s, TRAINING, f.day), f)
    elif k == "training_ended":
        _release(p, [f"trn:{ref}"], f)
    elif k == "checkin_done":
        p.checkins_done[ref] = bool(f.get("reached")) or p.checkins_done.get(ref, False)
        if f.get("reached"):
            _touch(p, f)
    elif k == "case_closed":
        p.closed = (str(f.get("reason")), f.day)


def checkin_ref(anchor: str, months: int, due: date) -> str:
    """The placeholder id partners put in checkin_done; the sender swaps it for followup's id."""
    return f"sim-ask-checkin-{anchor}-{months}-{due.isoformat()}"


@dataclass
class Status:
    state: str  # held, waiting, between, at_risk, lost, closed
    key: str | None = None
    reason: str | None = None
    since: date | None = None
    to_act: str | None = None
    at_risk_on: date | None = None


def evaluate(p: Parcours, today: date, territory: Territory) -> tuple[Status, list[tuple[str, date]]]:
    """The person's status on `today`, and the check-ins missed by then (key, due day)."""
    th = territory.followup
    if p.closed is not None:
        return Status("closed", reason=p.closed[0]), []
    # A lasting job closes the case after close_after_lasting_months, but not before its last check-in (the
    # 12-month one) is made or its grace has passed: the person is followed the full year.
    last_months = max(th.checkin_months, default=0)
    for ref, start in p.lasting_jobs.items():
        last_due = add_months(start, last_months)
        last_done = checkin_ref("job", last_months, last_due) in p.checkins_done or not th.checkin_months
        if today >= add_months(start, th.close_after_lasting_months) and (
                last_done or today >= last_due + timedelta(days=th.checkin_grace_days)):
            return Status("closed", reason="lasting_employment"), []
    if p.last_fact_day is not None and today >= p.last_fact_day + timedelta(days=th.close_after_inactive_days):
        return Status("closed", reason="inactivity"), []
    gap = p.gap
    busy = {d.id for d in territory.dispositifs if d.kind in ("iae", "formation")}  # silence there is no sign
    if p.holds and all(h.kind == ACCOMPANIED or (h.kind == DISPOSITIF and key[5:] not in busy)
                       for key, h in p.holds.items()):
        last = p.last_contact or min(h.since for h in p.holds.values())
        if today >= last + timedelta(days=th.no_contact_days):
            gap = (last, "no_contact", p.last_holder)
    if gap is not None and (gap[1] == "no_contact" or not p.holds) and not p.pending:
        grace = th.no_contact_days - th.at_risk_after_days if gap[1] == "no_contact" else 0
        at_risk_on = gap[0] + timedelta(days=th.at_risk_after_days + grace)
        lost_on = gap[0] + timedelta(days=th.lost_after_days + grace)
        state = "lost" if today >= lost_on else "at_risk" if today >= at_risk_on else "between"
        status = Status(state, gap_key(gap[1], gap[0]), gap[1], gap[0],
                        gap[2] or p.referent or p.registered_by or territory.coordinator.id, at_risk_on)
    else:
        status = Status("held" if p.holds else "waiting")
    missed: list[tuple[str, date]] = []
    for kind, ref, day, _structure in p.anchors:
        limit = max(th.checkin_months, default=0)
        if kind == "exit" and ref in territory.dispositifs_by_id:
            limit = territory.dispositifs_by_id[ref].follow_months_after_exit
        for months in th.checkin_months:
            if months > limit:
                continue
            due = add_months(day, months)
            cid = checkin_ref(kind, months, due)
            if today >= due + timedelta(days=th.checkin_grace_days) and not p.checkins_done.get(cid, False) \
                    and not (p.last_contact and p.last_contact > due):
                missed.append((f"{cid}:{ref}", due))
    return status, missed
