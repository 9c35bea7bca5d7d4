"""Referral flows between structures: issued in the period, and what became of them."""

from __future__ import annotations

from collections import defaultdict

from pydantic import Field

from services.reporting.domain.calendar import Period
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Views

OUTCOMES = ("issued", "accepted", "refused", "expired", "withdrawn", "breached", "appt")


class FlowRow(Row):
    from_structure: str = Field(alias="from")
    to: str
    issued: int
    accepted: int
    refused: int
    expired: int  # never answered: an acceptance after the deadline counts as accepted (and breached)
    withdrawn: int  # called off: a late answer made it unnecessary, or the case was closed
    breached: int  # the accept deadline was missed: expired, or accepted after it
    appt: int


def flows(v: Views, period: Period) -> list[FlowRow]:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    for r in v.referrals:
        if not r.issued or not period.holds(r.issued.day):
            continue
        flow = counts[(r.issued.from_structure, r.issued.to_structure)]
        flow["issued"] += 1
        taken_up = r.accepted is not None or r.appt is not None
        accepted_day = r.accepted.day if r.accepted is not None else r.appt.day if r.appt is not None else None
        late = accepted_day is not None and bool(r.issued.due_date) and accepted_day > r.issued.due_date
        expired_on = min((x.day for x in r.expired.values()), default=None)
        # A refusal after the expiry changes nothing (the referral service ignores it): counted once, as expired.
        refused = r.refused is not None and not taken_up and (expired_on is None or r.refused.day < expired_on)
        withdrawn = r.withdrawn is not None and not taken_up
        expired = bool(r.expired) and not taken_up and not withdrawn and not refused
        flow["accepted"] += taken_up  # a first appointment held implies the acceptance
        flow["refused"] += refused
        flow["expired"] += expired
        flow["withdrawn"] += withdrawn
        flow["breached"] += expired or late
        flow["appt"] += r.appt is not None
    return [FlowRow(from_structure=a, to=b, **f) for (a, b), f in sorted(counts.items())]
