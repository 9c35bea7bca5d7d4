"""Partner events are dated in the territory's time zone, read from the territory file."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from contracts.territory import load_territory

from simulator.year import simulate


def test_partner_events_happen_from_nine_in_the_territory_time_zone() -> None:
    # Cayenne is UTC-3 all year: nine there is neither nine in Paris nor nine in UTC.
    elsewhere = load_territory().model_copy(update={"timezone": "America/Cayenne"})
    year = simulate("cite-emploi-angers", people=20, seed=3, days=120, territory=elsewhere)
    zone = ZoneInfo("America/Cayenne")
    dated = [(day, event) for script in year.scripts for day, event in script.events]
    assert len(dated) > 50
    for day, event in dated:
        local = event.time.astimezone(zone)
        assert local.date() == year.start + timedelta(days=day)
        assert local.hour == 9
