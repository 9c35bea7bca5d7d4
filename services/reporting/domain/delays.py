"""Referral delays in whole days, with first decile, median and last decile by nearest rank."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from services.reporting.domain.calendar import Period
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Views


class DelayStats(Row):
    count: int
    d1: int | None
    median: int | None
    d9: int | None
    # The delays behind the quantiles, for the metrics' histograms; not part of the report's JSON.
    samples: tuple[int, ...] = Field(default=(), exclude=True, repr=False)


class Delays(Row):
    """One field per stage, in the report's (alphabetical) order."""

    acceptance_to_first_appointment: DelayStats
    referral_to_acceptance: DelayStats
    registration_to_first_referral: DelayStats


def nearest_rank(values: list[int], percent: int) -> int | None:
    """The nearest-rank percentile (an element of the data, so always an integer)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]


def delay_stats(values: list[int]) -> DelayStats:
    return DelayStats(count=len(values), d1=nearest_rank(values, 10), median=nearest_rank(values, 50),
                      d9=nearest_rank(values, 90), samples=tuple(values))


def days_between(a: str, b: str) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def delays(v: Views, period: Period) -> Delays:
    to_acceptance: list[int] = []
    to_appointment: list[int] = []
    for r in v.referrals:
        if not r.issued or not period.holds(r.issued.day) or not r.accepted:
            continue
        to_acceptance.append(days_between(r.issued.day, r.accepted.day))
        if r.appt:
            to_appointment.append(days_between(r.accepted.day, r.appt.day))
    to_first_referral = [max(0, days_between(p.reg.day, p.first_ref.day)) for p in v.persons.values()
                         if p.reg and p.first_ref and period.holds(p.first_ref.day)]
    return Delays(acceptance_to_first_appointment=delay_stats(to_appointment),
                  referral_to_acceptance=delay_stats(to_acceptance),
                  registration_to_first_referral=delay_stats(to_first_referral))
