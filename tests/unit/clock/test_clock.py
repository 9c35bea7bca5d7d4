"""The clock's pure parts: day ranges and the wait until the next Paris midnight."""

from datetime import date, datetime, timezone

from services.clock.domain import days_between, seconds_until_next_midnight


def test_a_range_of_days_is_inclusive():
    assert list(days_between(date(2026, 3, 28), date(2026, 3, 30))) == [
        date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]


def test_next_midnight_is_paris_midnight_across_the_dst_change():
    # 2026-03-29 is the spring change: 22:30 UTC on the 28th is 23:30 in Paris, 30 minutes before midnight.
    assert seconds_until_next_midnight(datetime(2026, 3, 28, 22, 30, tzinfo=timezone.utc)) == 1800
    # In summer Paris is UTC+2: 21:00 UTC is 23:00, one hour before midnight.
    assert seconds_until_next_midnight(datetime(2026, 7, 1, 21, 0, tzinfo=timezone.utc)) == 3600
