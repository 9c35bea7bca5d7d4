"""Answers to a fact followup has not received: an exit from a stay, the end of a job, a check-in's answer. Pure.

Arrival order is not guaranteed: a partner's software may send an exit weeks before the entry it closes, or the
end of a job before its start. Such an answer waits for the fact it answers, counted as an answer to a referral
waits for its referral (`answers.answer_waits_until`: `wait_days` days from the later of its own day and the first
day after it arrived), and meanwhile changes nothing: the fold leaves it out. If the fact comes within the wait,
the answer counts from its own date, as if it had come in order. If it never comes (an exit from an IAE the
person never entered, a check-in answer with a mistyped id), the answer is dropped on the first day after its
wait and reported to its sender (a dead letter with a reason: `unknown_stay`, `unknown_job`, `unknown_checkin`).
Dropped, it never counts, even if the fact comes later: it never changes a state, a worklist or a figure.

What an answer answers:
- an exit from dispositif D: an entry into D dated on or before it (the stay it ends);
- the end of job J: the start of J dated on or before it;
- a check-in's answer: a check-in followup issued, or issues from the exits and job starts it holds.

While an answer waits, its fact keeps the record it came in (`KEPT`: where it was consumed and its bytes), so
that its dead letter is the letter of that record; the record leaves the fact once the answer counts or is
dropped (`DROPPED` then says on which day).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from services.followup.domain.answers import answer_waits_until, received_on
from services.followup.domain.facts import Fact

# The reason code reported for each kind of answer (the dead letter's reason starts with it).
UNKNOWN_CODES = {"dispositif_exited": "unknown_stay", "job_ended": "unknown_job", "checkin_done": "unknown_checkin"}
# The fact an exit or a job end answers (a check-in's answer answers a check-in, decided from the anchors).
OPENED_BY = {"dispositif_exited": "dispositif_entered", "job_ended": "job_started"}
EVENT_TYPES = {"dispositif_exited": "dispositif.exited", "job_ended": "job.ended",
               "checkin_done": "followup.checkin_done"}
KEPT, DROPPED = "kept", "dropped"  # Fact.info keys: the record kept while waiting; the day it was dropped


@dataclass(frozen=True)
class Dropped:
    """An answer whose fact never came within its wait: to report to its sender, with the record it came in."""

    fact_id: str
    code: str
    reason: str
    record: Mapping[str, Any]  # KEPT: topic, partition, offset, original (text), sender


def _opened(facts: Iterable[Fact]) -> dict[tuple[str, str], list[Fact]]:
    out: dict[tuple[str, str], list[Fact]] = {}
    for f in facts:
        if f.kind in OPENED_BY.values() and f.ref:
            out.setdefault((f.kind, f.ref), []).append(f)
    return out


def _late(answer: Fact, arrived: date | None, wait_days: int | None) -> bool:
    """Whether what the answer answers arrived after the answer's wait (None: no arrival day or no bound known)."""
    last = answer_waits_until(answer, wait_days) if wait_days is not None else None
    return arrived is not None and last is not None and arrived > last


def _first_arrival(facts: Iterable[Fact]) -> date | None:
    days = [received_on(f) for f in facts]
    if any(d is None for d in days):
        return None  # one of them has no arrival day: not bounded
    return min((d for d in days if d is not None), default=None)


def unknown_answers(facts: Iterable[Fact], wait_days: int | None,
                    checkins: Mapping[str, date | None] | None = None) -> set[str]:
    """The ids of the exits and job ends (and check-in answers, when `checkins` is given) that count for nothing:
    what they answer is not among the facts, or arrived after their wait, or they were dropped already.
    `checkins`: each check-in followup knows -> the day the fact it is anchored on arrived (None: in time)."""
    facts = list(facts)
    opened = _opened(facts)
    out = set()
    for f in facts:
        if f.kind not in UNKNOWN_CODES:
            continue
        if f.info.get(DROPPED):
            out.add(f.id)
        elif f.kind == "checkin_done":
            if checkins is not None and (f.ref not in checkins or _late(f, checkins[f.ref or ""], wait_days)):
                out.add(f.id)
        else:
            stays = [o for o in opened.get((OPENED_BY[f.kind], f.ref or ""), ()) if o.day <= f.day]
            if not stays or _late(f, _first_arrival(stays), wait_days):
                out.add(f.id)
    return out


def may_wait(fact: Fact, facts: Iterable[Fact], issued_checkins: Iterable[str]) -> bool:
    """Whether an answer just received may have to wait for its fact, so that its record is kept: an exit or a job
    end with nothing it could answer among the facts, a check-in answer to a check-in never issued. (Only a hint:
    `settle` decides, and lets go of the record of an answer that counts.)"""
    if fact.kind not in UNKNOWN_CODES or received_on(fact) is None:
        return False
    if fact.kind == "checkin_done":
        return fact.ref not in set(issued_checkins)
    return not any(f.kind == OPENED_BY[fact.kind] and f.ref == fact.ref for f in facts)


def keep(fact: Fact, record: Mapping[str, Any]) -> Fact:
    return replace(fact, info={**fact.info, KEPT: dict(record)})


def settle(facts: Iterable[Fact], unknown: set[str], today: date, wait_days: int | None
           ) -> tuple[tuple[Fact, ...], tuple[Dropped, ...], date | None]:
    """The waiting answers on `today`: those that now count let go of their record; those whose wait ended before
    today are dropped, to be reported. Returns the facts, what to report, and the next day a wait ends."""
    out, dropped, wake = [], [], []
    for f in facts:
        record = f.info.get(KEPT)
        if record is None or f.day > today or wait_days is None:
            out.append(f)
            continue
        rest = {k: v for k, v in f.info.items() if k != KEPT}
        last = answer_waits_until(f, wait_days)
        if f.id not in unknown:
            out.append(replace(f, info=rest))
        elif last is not None and today > last:
            out.append(replace(f, info={**rest, DROPPED: today.isoformat()}))
            dropped.append(Dropped(f.id, UNKNOWN_CODES[f.kind], reason(f, record, wait_days, last), record))
        else:
            out.append(f)
            if last is not None:
                wake.append(last + timedelta(days=1))
    return tuple(out), tuple(dropped), min(wake, default=None)


def reason(answer: Fact, record: Mapping[str, Any], wait_days: int, last: date) -> str:
    """The dead letter's reason: a stable code first (the part before the colon), then what the sender needs to find
    and correct its answer. Only ids, days and structures, never a person."""
    sender = answer.structure or record.get("sender") or "its sender"
    what = f"{EVENT_TYPES[answer.kind]} {answer.id} from {sender}, dated {answer.day.isoformat()}"
    waited = f"waited {wait_days} days (until {last.isoformat()}) and dropped it, nothing changed"
    code = UNKNOWN_CODES[answer.kind]
    if answer.kind == "dispositif_exited":
        return (f"{code}: {what}, ends a stay in {answer.ref} that Ariane never received (no entry into it on or "
                f"before that day): {waited}. If the person was there, send the entry, then the exit again with a "
                "new id")
    if answer.kind == "job_ended":
        return (f"{code}: {what}, ends job {answer.ref}, whose start Ariane never received: {waited}. If the job "
                "was real, send its start, then its end again with a new id")
    return (f"{code}: {what}, answers check-in {answer.ref}, which Ariane never issued: {waited}. Answer the "
            "check-in by the id your worklist gives, with a new event id")
