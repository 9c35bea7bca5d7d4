"""People by current state and structure, and people lost and re-engaged."""

from __future__ import annotations

from collections import defaultdict

from services.reporting.domain.calendar import Period
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Person, Views

STATES = ("closed", "lost", "in_employment", "waiting_referral", "held")


class PersonsRow(Row):
    state: str
    structure: str
    persons: int


class LostReengaged(Row):
    lost: int
    reengaged: int
    lost_now: int
    corrected: int = 0


def person_state(person: Person, open_job: bool, pending_referral: bool) -> tuple[str, str]:
    """Where a person stands now and which structure that concerns: the latest of closed, lost, re-engaged
    decides, then an open job, then a referral waiting for an answer, else held by the last holder."""
    last_lost = max(person.lost.values(), default=None)
    last_reeng = max([*person.reeng.values(), *person.corrected.values()], default=None)
    closed = person.closed
    holder = person.holder.structure if person.holder else "unknown"
    marks = [(closed.time, "closed") if closed else None, (last_lost.time, "lost") if last_lost else None,
             (last_reeng.time, "reengaged") if last_reeng else None]
    marks = [m for m in marks if m]
    latest = max(marks)[1] if marks else None
    if latest == "closed":
        return "closed", holder
    if latest == "lost":
        return "lost", last_lost.structure
    if open_job:
        return "in_employment", holder
    if pending_referral:
        return "waiting_referral", holder
    return "held", holder


def persons_by_state(v: Views) -> list[PersonsRow]:
    open_jobs = {j.person for j in v.jobs if j.started and not j.ended}
    pending = {r.person for r in v.referrals if r.pending}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for pid, person in v.persons.items():
        counts[person_state(person, pid in open_jobs, pid in pending)] += 1
    return [PersonsRow(state=s, structure=st, persons=n) for (s, st), n in sorted(counts.items())]


def lost_reengaged(v: Views, period: Period, by_state: list[PersonsRow]) -> LostReengaged:
    # A lost episode a late fact disproved (person.loss_corrected) is not a loss: counted as corrected instead.
    lost = sum(sum(period.holds(x.day) for x in p.lost.values()) > len(p.corrected) for p in v.persons.values())
    corrected = sum(any(period.holds(x.day) for x in p.corrected.values()) for p in v.persons.values())
    reengaged = sum(any(period.holds(x.day) for x in p.reeng.values()) for p in v.persons.values())
    return LostReengaged(lost=lost, reengaged=reengaged, corrected=corrected,
                         lost_now=sum(row.persons for row in by_state if row.state == "lost"))
