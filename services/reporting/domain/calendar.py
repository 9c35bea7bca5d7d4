"""Business time: the territory's day of an event, periods of business days, and the "as of" cut.

The time zone is the territory's (its file's `timezone`); callers pass it. The default is the contract's
default zone, for a territory file that names none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from contracts.envelope import Envelope, utc
from contracts.territory import Territory

DEFAULT_ZONE = ZoneInfo(Territory.model_fields["timezone"].default)


def zone_of(territory: Territory) -> ZoneInfo:
    return ZoneInfo(territory.timezone)


@dataclass(frozen=True)
class Period:
    """Business days, both ends included; None leaves that side open."""

    start: date | None = None
    end: date | None = None

    def holds(self, day: str | None) -> bool:
        if not day:
            return False
        return (self.start is None or day >= self.start.isoformat()) and (
            self.end is None or day <= self.end.isoformat())


def stamp(event: Envelope) -> str:
    """The event time as a fixed-width UTC string, so that strings sort as times do."""
    return _stamp(event.time)


def local_day(event: Envelope, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    """The business day of an event in the territory's time zone, ISO formatted."""
    return _local_day(event.time, zone)


@lru_cache(maxsize=65536)
def _stamp(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=65536)
def _local_day(moment: datetime, zone: ZoneInfo) -> str:
    return utc(moment).astimezone(zone).date().isoformat()


def recorded_at(event: Envelope) -> datetime:
    """When Ariane recorded the event; the 'as of' cut uses it (the event time when it is absent)."""
    return utc(event.recordedtime or event.time)


def as_of_filter(cutoff: datetime | None) -> Callable[[Envelope], bool]:
    """Keep events recorded strictly before `cutoff` (None keeps everything)."""
    if cutoff is None:
        return lambda event: True
    cut = utc(cutoff)
    return lambda event: recorded_at(event) < cut


def end_of_day(day: date, zone: ZoneInfo = DEFAULT_ZONE) -> datetime:
    """The first instant after `day` in the territory's time zone: the 'as of' cut of that date."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
