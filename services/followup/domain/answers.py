"""Which answers to a referral count: an acceptance holds a person only once the referral it answers is known.

A partner may answer a referral followup has not received yet (its sender's export runs late), or one nobody
ever sent (a mistyped number). The referral service keeps such an answer waiting for its referral for a bounded
wait, applies it as if in order when the referral comes in time, and drops it (a dead letter to the sender)
when it does not. Followup takes the same view, so that the coordinator never sees someone held by a structure
on the strength of an answer Ariane will drop: an acceptance or first appointment counts from its own date once
followup knows the referral, provided the referral arrived within the answer's wait; until then, and for ever
if it never comes in time, the answer holds nobody.

The wait is the referral service's (counted as it counts it, `waits_until` there): from the later of the
answer's own day and the first day that started after it arrived, `wait_days` days. Arrival days are those of
followup's own clock when the fact was received (`Fact.info["received"]`); a fact received before the first
tick, or stored before arrivals were kept, has none and is not bounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from services.followup.domain.facts import Fact

ANSWERS = ("referral_accepted", "referral_appointment")
RECEIVED = "received"
# The facts whose arrival day is kept: answers, and what they answer (domain/unknown_facts.py for the stays, jobs
# and check-ins: exits and job starts anchor the check-ins).
ARRIVALS = (*ANSWERS, "referral_issued", "dispositif_entered", "dispositif_exited", "job_started", "job_ended",
            "checkin_done")


def received(fact: Fact, today: date | None) -> Fact:
    """The fact as received on `today` (followup's clock): an answer, or a fact an answer may answer, keeps its
    arrival day, so that an answer's wait can be counted (the first record of a fact id is the one kept)."""
    if fact.kind not in ARRIVALS or today is None:
        return fact
    return replace(fact, info={**fact.info, RECEIVED: today.isoformat()})


def received_on(fact: Fact) -> date | None:
    raw = fact.info.get(RECEIVED)
    return date.fromisoformat(raw) if raw else None


def answer_waits_until(answer: Fact, wait_days: int) -> date | None:
    """The last day an answer that arrived before its referral still waits for it (None: no bound known)."""
    arrived = received_on(answer)
    if arrived is None:
        return None
    return max(answer.day, arrived + timedelta(days=1)) + timedelta(days=wait_days)


def unanswerable(facts: Iterable[Fact], wait_days: int | None) -> set[str]:
    """The ids of the answers that hold nobody: their referral is not among the facts, or it arrived after the
    answer's wait ended (the referral service had dropped the answer by then). `wait_days` None: no bound."""
    facts = list(facts)
    referral_arrivals: dict[str, date | None] = {}
    for f in facts:
        if f.kind == "referral_issued" and f.ref:
            arrived = received_on(f)
            known = referral_arrivals.get(f.ref, arrived)
            # Two records of one referral: the first to arrive counts (None, unbounded, wins).
            referral_arrivals[f.ref] = None if known is None or arrived is None else min(known, arrived)
    out = set()
    for f in facts:
        if f.kind not in ANSWERS:
            continue
        if (f.ref or "") not in referral_arrivals:
            out.add(f.id)
            continue
        arrived = referral_arrivals[f.ref or ""]
        last = answer_waits_until(f, wait_days) if wait_days is not None else None
        if arrived is not None and last is not None and arrived > last:
            out.add(f.id)
    return out
