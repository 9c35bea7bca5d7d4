"""Referral flows between structures: issued in the period, and what became of them."""

from __future__ import annotations

from collections import defaultdict

from pydantic import Field

from services.reporting.domain.calendar import Period
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Views

OUTCOMES = ("issued", "accepted", "refused", "expired", "appt")


class FlowRow(Row):
    from_structure: str = Field(alias="from")
    to: str
    issued: int
    accepted: int
    refused: int
    expired: int
    appt: int


def flows(v: Views, period: Period) -> list[FlowRow]:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    for r in v.referrals:
        if not r.issued or not period.holds(r.issued.day):
            continue
        flow = counts[(r.issued.from_structure, r.issued.to_structure)]
        flow["issued"] += 1
        flow["accepted"] += r.accepted is not None
        flow["refused"] += r.refused is not None
        flow["expired"] += bool(r.expired)
        flow["appt"] += r.appt is not None
    return [FlowRow(from_structure=a, to=b, **f) for (a, b), f in sorted(counts.items())]
