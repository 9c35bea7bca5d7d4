"""Answers that came before their referral: how long they wait for it, and what becomes of them. Pure.

Order across topics is not guaranteed (a partner's prescription may be recorded days after the answer to it),
so an answer to a referral not known yet is kept in the person's state (`PersonState.pending`) and applied when
the referral appears, as if it had come in order (`lifecycle`). It does not wait forever: counted in days of the
territory's clock, from the later of its own date and the first day that starts after it arrived, it waits
`wait_days`. On the first day after that it is dropped from the state and reported to its sender with the
reason (a dead letter naming the referral and the structure that answered). Having waited only in the state, it
never changed a referral, a re-orientation or a figure of this service.

An answer that the referral's arrival takes out of the waiting room is either applied to it, or, when it came
from a structure the referral was not sent to, refused: the same verdict as for such an answer arriving after
its referral (dead-lettered with the reason), never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from services.referral.domain.lifecycle import Answer, PersonState

UNKNOWN_REFERRAL = "unknown_referral"
MISDIRECTED_ANSWER = "misdirected_answer"


class Outcome(StrEnum):
    """What became of an answer that had to wait (a closed set: the metric's label)."""

    PARKED = "parked"  # its referral is not known yet: it waits
    APPLIED = "applied"  # its referral came in time: applied as if in order
    MISDIRECTED = "misdirected"  # its referral came, sent to another structure: refused
    EXPIRED = "expired"  # its referral never came in time: reported, changed nothing


class Waiting(BaseModel):
    """One answer in (or leaving) the waiting room, with the referral id it names (aliases resolved)."""

    model_config = ConfigDict(frozen=True)

    referral_id: str
    answer: Answer
    outcome: Outcome


def waits_until(answer_on: date, first_day: date, wait_days: int) -> date:
    """The last day an answer waits for its referral: `wait_days` after the later of its own date and the first
    day that started after it arrived (an answer recorded long after its date still gets its full wait)."""
    return max(answer_on, first_day) + timedelta(days=wait_days)


def _waiting(state: PersonState) -> dict[str, tuple[str, Answer]]:
    return {a.event_id: (referral_id, a) for referral_id, answers in state.pending.items() for a in answers}


def moves(before: PersonState, after: PersonState) -> list[Waiting]:
    """What one fact did to the person's waiting answers: those it parked, and those it took out because their
    referral appeared (applied, or refused when the referral went to another structure)."""
    was, now = _waiting(before), _waiting(after)
    out = [Waiting(referral_id=rid, answer=a, outcome=Outcome.PARKED)
           for event_id, (rid, a) in sorted(now.items()) if event_id not in was]
    for event_id, (rid, answer) in sorted(was.items()):
        if event_id in now:
            continue
        referral = after.referrals.get(after.aliases.get(rid, rid))
        sent_to_it = referral is not None and referral.to_structure == answer.structure_id
        out.append(Waiting(referral_id=rid, answer=answer,
                           outcome=Outcome.APPLIED if sent_to_it else Outcome.MISDIRECTED))
    return out


def expire(state: PersonState, until: Mapping[str, date], day: date) -> tuple[PersonState, list[Waiting]]:
    """The day `day` started: the answers whose wait ended before it (`until`: event id -> last day of its wait)
    leave the state, unapplied, and are returned to be reported."""
    expired: list[Waiting] = []
    pending: dict[str, tuple[Answer, ...]] = {}
    for referral_id, answers in state.pending.items():
        kept = []
        for answer in answers:
            last = until.get(answer.event_id)
            if last is not None and day > last:
                expired.append(Waiting(referral_id=referral_id, answer=answer, outcome=Outcome.EXPIRED))
            else:
                kept.append(answer)
        if kept:
            pending[referral_id] = tuple(kept)
    if not expired:
        return state, []
    return state.model_copy(update={"pending": pending}), expired


def reason(waiting: Waiting, *, wait_days: int, last_day: date | None = None,
           sent_to: str | None = None) -> str:
    """The dead letter's reason: a stable code first (the part before the colon), then what the sender needs to
    find and correct its answer. Only ids and structures, never a person."""
    a = waiting.answer
    what = f"{a.event_type} {a.event_id} from {a.structure_id}, dated {a.on.isoformat()}"
    if waiting.outcome is Outcome.EXPIRED:
        until = f" (until {last_day.isoformat()})" if last_day is not None else ""
        return (f"{UNKNOWN_REFERRAL}: {what}, answers referral {waiting.referral_id}, which Ariane never received: "
                f"waited {wait_days} days{until} and dropped it, nothing changed. Send the answer again, with a "
                "new id, once the referral exists")
    if waiting.outcome is Outcome.MISDIRECTED:
        to = f" was sent to {sent_to}" if sent_to else " was sent to another structure"
        return (f"{MISDIRECTED_ANSWER}: {what}, answers referral {waiting.referral_id}, which{to}, "
                f"not to {a.structure_id}: nothing changed")
    raise ValueError(f"no reason to report an answer {waiting.outcome}")
