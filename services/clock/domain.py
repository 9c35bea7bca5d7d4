"""The clock's rules, pure: which days to tick, and how long until the next one starts.

A day is a calendar day in the territory's time zone (Territory.timezone); its tick's id is derived from the
date, so a restarted or doubled clock produces the same ids and consumers' inboxes keep one tick per day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from contracts.clock import TIMEZONE, DayStarted

# The clock contract's time zone: only a default, the service passes its territory's.
CONTRACT_ZONE = ZoneInfo(TIMEZONE)


def days_between(first: date, last: date) -> Iterator[date]:
    """Every day from `first` to `last`, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def day_of(now: datetime, zone: ZoneInfo = CONTRACT_ZONE) -> date:
    """The territory's calendar day at the instant `now` (an aware datetime)."""
    return now.astimezone(zone).date()


def seconds_until_next_midnight(now: datetime, zone: ZoneInfo = CONTRACT_ZONE) -> float:
    """From `now` to the next midnight in `zone`, across daylight-saving changes."""
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return max(0.0, (midnight - local).total_seconds())


def tick_of(day: date) -> DayStarted:
    """The tick of a day: clock.day_started with the id clock-YYYY-MM-DD."""
    return DayStarted.for_day(day)
