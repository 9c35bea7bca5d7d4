"""`ariane followup clock` / `ariane run clock`: the day clock, forever or over a range of days."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import typer


def clock(
    from_day: datetime = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="First day of a range to emit."),
    to_day: datetime = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="Last day of the range (inclusive)."),
) -> None:
    """Emit clock.day_started ticks: each midnight of the territory forever, or a range of days at once."""
    if from_day is None and to_day is None:
        # Forever is the clock service itself, exactly as `python -m services.clock` runs it.
        from services.clock.app import definition
        from services.runtime.service import serve

        serve(definition())
        return
    from contracts.topics import CLOCK
    from services.clock.domain import days_between
    from services.clock.tasks import publish_days
    from services.runtime.settings import RuntimeSettings

    first: date = (from_day or to_day).date()
    last: date = (to_day or from_day).date()
    if last < first:
        raise typer.BadParameter("--to must not be before --from")
    settings = RuntimeSettings()
    sent = asyncio.run(publish_days(settings.bootstrap(), settings.topic(CLOCK), days_between(first, last)))
    typer.echo(f"{sent} day tick(s) from {first} to {last}")
