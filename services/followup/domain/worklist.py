"""The worklist, pure: which lines a person's status puts on which structure's worklist, most urgent first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.followup.domain.decisions import Rules, State, Status


class LineKind(StrEnum):
    """Why a structure must act, in order of urgency."""

    LOST = "lost"
    AT_RISK = "at_risk"
    CHECKIN_MISSED = "checkin_missed"
    CHECKIN_DUE = "checkin_due"
    REFERRAL_EXPIRING = "referral_expiring"


URGENCY = {kind: rank for rank, kind in enumerate(LineKind)}  # lost 0, at_risk 1, ... referral_expiring 4


@dataclass(frozen=True)
class WorklistLine:
    """One line of a worklist: why a structure must act for a person, and since when."""

    person_id: str
    structure_id: str
    kind: LineKind
    reason: str
    since: date

    @property
    def urgency(self) -> int:
        return URGENCY[self.kind]


def worklist_lines(person_id: str, status: Status, today: date | None, rules: Rules) -> list[WorklistLine]:
    """Today's worklist lines for one person: at risk or lost, check-ins due or missed, referrals expiring
    within `rules.remind_days`."""
    out: list[WorklistLine] = []
    if status.state in (State.LOST, State.AT_RISK) and status.structure_to_act and status.since:
        kind = LineKind(status.state.value)
        out.append(WorklistLine(person_id, status.structure_to_act, kind, status.reason or kind.value,
                                status.since))
    missed = {c.id for c in status.checkins_missed}
    for c in status.checkins_due:
        kind = LineKind.CHECKIN_MISSED if c.id in missed else LineKind.CHECKIN_DUE
        out.append(WorklistLine(person_id, c.structure, kind, f"{c.anchor}+{c.months}m", c.due_on))
    if today is not None:
        for ref, to, due in status.referrals_pending:
            if due is not None and due - today <= timedelta(days=rules.remind_days):
                # A reason is at most 64 characters, the width of a worklist line's reason.
                out.append(WorklistLine(person_id, to, LineKind.REFERRAL_EXPIRING, ref[:64], due))
    return out
