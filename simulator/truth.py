"""Ground truth: what every report figure must be and exactly who must be detected lost, when and why.

Computed by plain Python from the partner events of the simulated year and the referral events the referral
service is expected to emit (its non-primary orientations and the expiries of unanswered referrals), never by
calling a service. The holding model is in parcours.py; README.md states the rules.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from contracts.envelope import Envelope
from contracts.territory import Territory

from simulator.parcours import PRECEDENCE, Episode, Fact, Parcours, apply, evaluate
from simulator.script import PersonScript
from simulator.truth_document import person_entry, truth_document


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _midnight(day: date, zone: ZoneInfo) -> str:
    return _utc(datetime.combine(day, time(0), tzinfo=zone))


def fact_of(day: date, event: Envelope) -> Fact | None:
    """The fact a partner event is for the holding model (None: no effect on it)."""
    k, d = event.type.removeprefix("fr.ariane."), event.data

    def f(fact_kind: str, structure: str | None = None, ref: str | None = None, **info: object) -> Fact:
        return Fact((_utc(event.time), PRECEDENCE[fact_kind], event.id), day, fact_kind, structure, ref,
                    tuple(sorted(info.items())))

    fact: Fact | None = None
    if k == "person.registered":
        fact = f("registered", d.structure_id)
    elif k == "contact.recorded":
        fact = f("contact", d.structure_id, reached=d.reached)
    elif k in ("barrier.identified", "barrier.lifted"):
        fact = f("barrier", d.structure_id, d.barrier_id)
    elif k == "referral.issued":
        fact = f("referral_issued", d.to_structure, d.referral_id, due=d.due_date, kind=str(d.kind),
                 **{"from": d.from_structure})
    elif k == "referral.accepted":
        fact = f("referral_accepted", d.structure_id, d.referral_id)
    elif k == "referral.first_appointment_held":
        fact = f("referral_appointment", d.structure_id, d.referral_id)
    elif k == "referral.refused":
        fact = f("referral_refused", d.structure_id, d.referral_id)
    elif k == "dispositif.entered":
        fact = f("dispositif_entered", d.structure_id, d.dispositif_id)
    elif k == "dispositif.exited":
        fact = f("dispositif_exited", d.structure_id, d.dispositif_id)
    elif k == "job.started":
        lasting = str(d.contract_type) in ("cdi", "creation") or (
            d.expected_end is not None and (d.expected_end - day).days >= 183)
        fact = f("job_started", d.structure_id, d.job_id, lasting=lasting)
    elif k == "job.ended":
        fact = f("job_ended", None, d.job_id)
    elif k == "training.started":
        fact = f("training_started", d.structure_id, d.training_id)
    elif k == "training.ended":
        fact = f("training_ended", None, d.training_id)
    elif k == "followup.checkin_done":
        fact = f("checkin_done", d.structure_id, d.checkin_id, reached=d.reached)
    elif k == "case.closed":
        fact = f("case_closed", None, None, reason=str(d.reason))
    return fact


class _Referral:
    __slots__ = ("ref", "kind", "to", "issued_day", "due_day", "answer", "answer_day", "answer_sent", "expired_day")

    def __init__(self, ref: str, kind: str, to: str, issued_day: int, due_day: int):
        self.ref, self.kind, self.to, self.issued_day, self.due_day = ref, kind, to, issued_day, due_day
        self.answer: str | None = None
        self.answer_day: int | None = None  # the day the answer is dated
        self.answer_sent: int | None = None  # the day the partner sent it (later when recorded late)
        self.expired_day: int | None = None

    def expiry_announced(self, horizon: int) -> bool:
        """The referral service announces an expiry (referral.expired) on the tick after the due date when no
        answer has reached it by then, even one dated before the deadline and recorded late."""
        expiry = self.due_day + 1
        return self.answer != "withdrawn" and expiry < horizon and (
            self.answer_sent is None or self.answer_sent >= expiry)

    def outcome(self) -> str:
        if self.answer == "withdrawn":
            return "withdrawn"
        if self.answer == "refused" and self.expired_day is None:
            return "refused"
        if self.answer == "accepted":
            return "accepted_late" if self.expired_day is not None else "accepted"
        return "expired" if self.expired_day is not None else "pending"


def _referrals_of(script: PersonScript, start: date, horizon: int, zone: ZoneInfo
                  ) -> tuple[list[_Referral], list[Fact]]:
    """Every referral about the person (orientations predicted, prescriptions from the stream), what became of
    it, and the facts the referral service adds (orientation issued, expired)."""
    referrals: dict[str, _Referral] = {}
    facts: list[Fact] = []
    for o in script.orientations:
        if o.issued_day >= horizon:
            continue
        referrals[o.referral_id] = _Referral(o.referral_id, "orientation", o.to_structure, o.issued_day, o.due_day)
        cause = next(e for d, e in script.events if d == o.issued_day and (
            e.type.endswith("person.registered") or e.type.endswith("barrier.identified")))
        facts.append(Fact((_utc(cause.time), 0, f"{cause.id}:issued:{o.referral_id}"), start + timedelta(o.issued_day),
                          "referral_issued", o.to_structure, o.referral_id,
                          tuple(sorted({"due": start + timedelta(o.due_day), "kind": "orientation",
                                        "from": o.from_structure}.items()))))
    for day, event in script.events:
        k, d = event.type.removeprefix("fr.ariane."), event.data
        if k == "referral.issued":
            referrals[d.referral_id] = _Referral(d.referral_id, str(d.kind), d.to_structure, day,
                                                 (d.due_date - start).days)
        elif k in ("referral.accepted", "referral.first_appointment_held", "referral.refused"):
            ref = referrals.get(d.referral_id)
            if ref is not None and ref.answer is None:
                ref.answer = "refused" if k == "referral.refused" else "accepted"
                ref.answer_day = day
                ref.answer_sent = script.arrival.get(event.id, day)
    closed_days = [day for day, event in script.events if event.type.endswith("case.closed")]
    for ref in referrals.values():
        # A case closed while the referral waits for its answer withdraws it: nothing expires afterwards.
        closed = next((day for day in sorted(closed_days) if day > ref.issued_day), None)
        if closed is not None and closed <= ref.due_day and (ref.answer_day is None or ref.answer_day > closed):
            ref.answer, ref.answer_day = "withdrawn", closed
            continue
        # The referral service expires, on the tick of the day after the due date (before that day's partner
        # events), a referral nobody accepted, refused or met by its due date.
        expiry = ref.due_day + 1
        if expiry < horizon and (ref.answer_day is None or ref.answer_day >= expiry):
            ref.expired_day = expiry
            facts.append(Fact((_midnight(start + timedelta(expiry), zone), 1, f"expired:{ref.ref}"),
                              start + timedelta(expiry), "referral_expired", ref.to, ref.ref,
                              (("due", start + timedelta(ref.due_day)),)))
    return list(referrals.values()), facts


def follow(script: PersonScript, territory: Territory, start: date, horizon: int
           ) -> tuple[Parcours, list[Episode], set[str], str, list[_Referral]]:
    """Replay one person's year: the parcours at the end, the lost episodes, the at-risk keys, the final state."""
    referrals, extra = _referrals_of(script, start, horizon, ZoneInfo(territory.timezone))
    facts = [f for d, e in script.events if (f := fact_of(start + timedelta(d), e)) is not None] + extra
    by_day: dict[date, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_day[fact.day].append(fact)
    p = Parcours()
    episodes: dict[str, Episode] = {}
    at_risk: set[str] = set()
    state = "unknown"
    first = min(by_day) if by_day else None
    for n in range(horizon):
        today = start + timedelta(n)
        facts_today = sorted(by_day.get(today, ()), key=lambda f: f.order)
        # The tick of the day decides first, with what the referral service decided on it (expiries, at
        # midnight); then the partner events of the day come in, each re-deciding.
        ticked = [f for f in facts_today if f.kind == "referral_expired"]
        rest = [f for f in facts_today if f.kind != "referral_expired"]
        for phase in (ticked, rest) if rest else (ticked,):
            for fact in phase:
                apply(p, fact)
            if first is not None and today >= first:
                state = _decide(p, today, territory, episodes, at_risk)
    return p, [e for e in episodes.values() if e.lost_on], at_risk, state, referrals


def _decide(p: Parcours, today: date, territory: Territory, episodes: dict[str, Episode], at_risk: set[str]) -> str:
    """One decision of followup (on the tick or on a fact): episodes re-engaged, at risk, lost; the state."""
    status, missed = evaluate(p, today, territory)
    state = status.state
    for key, episode in episodes.items():  # an episode that no longer stands: re-engaged
        if episode.lost_on and episode.reengaged_on is None and key != status.key and status.state != "closed":
            by, on = p.closures.get(key, (None, None))
            holders = sorted({h.structure for h in p.holds.values() if h.structure})
            by = by or (holders[0] if holders else p.last_contact_by or status.to_act)
            if by is None:
                continue
            episode.reengaged_on = max(on or p.last_contact or today, episode.since)
            episode.reengaged_by = by
    if status.state in ("at_risk", "lost") and status.key:
        episode = episodes.setdefault(status.key, Episode(status.key, str(status.reason), status.since,
                                                          str(status.to_act), at_risk_on=today))
        at_risk.add(status.key)
        if status.state == "lost" and episode.lost_on is None:
            episode.lost_on = today
    elif missed and status.state not in ("closed",):
        key, _due = min(missed, key=lambda m: (m[1], m[0]))
        at_risk.add(f"checkin_missed:{key}")
        state = "at_risk"  # a missed check-in puts the person at risk (followup's state), not only a flag
    return state


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def compute_truth(scripts: list[PersonScript], territory: Territory, start: date, horizon: int) -> dict[str, Any]:
    """The ground truth of a simulated year, as a JSON-ready dict."""
    referral_outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    lost_rows: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    final_states: Counter[str] = Counter()
    at_risk_total: Counter[str] = Counter()
    late: Counter[str] = Counter()  # partners who record late (lateness.py): what it makes Ariane see meanwhile

    for script in scripts:
        p, episodes, at_risk, state, referrals = follow(script, territory, start, horizon)
        for ref in referrals:
            referral_outcomes[ref.kind]["issued"] += 1
            referral_outcomes[ref.kind][ref.outcome()] += 1
            late["expiries_announced"] += ref.expiry_announced(horizon)
            # Counted (0 or 1) for every referral, as the recorded story does: the key is there even when none.
            late["answers_dated_in_time_sent_after_the_deadline"] += bool(ref.expiry_announced(horizon)
                                                                          and ref.expired_day is None)
        late["events_sent_late"] += len(script.arrival)
        final_states[state] += 1
        for key in at_risk:
            at_risk_total[key.split(":", 1)[0]] += 1
        for e in episodes:
            lost_rows.append({
                "person": script.person.key, "partner_ref": script.partner_ref, "reason": e.reason,
                "since": _iso(e.since), "at_risk_on": _iso(e.at_risk_on), "detected_on": _iso(e.lost_on),
                "structure_to_act": e.structure_to_act, "reengaged_on": _iso(e.reengaged_on),
                "reengaged_by": e.reengaged_by})
        holders = sorted({h.structure for h in p.holds.values() if h.structure})
        people.append(person_entry(script, start, horizon, {
            "state": state, "holders": holders, "lost": any(e.reengaged_on is None for e in episodes),
            "closed": p.closed[0] if p.closed else None}))

    return truth_document(scripts, territory, start, horizon, people=people, lost_rows=lost_rows,
                          outcomes=referral_outcomes, at_risk_flags=at_risk_total, final_states=final_states,
                          late=late)
