"""`ariane followup ...`: command-line work of the followup service."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def clock(
    from_day: datetime = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="First day of a range to emit."),
    to_day: datetime = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="Last day of the range (inclusive)."),
) -> None:
    """Emit clock.day_started ticks: each Europe/Paris midnight forever, or a range of days at once."""
    from services.followup.clock import days_between, publish_days, run_forever
    from services.runtime.settings import RuntimeSettings

    settings = RuntimeSettings()
    bootstrap = settings.bootstrap()
    if from_day is None and to_day is None:
        asyncio.run(run_forever(bootstrap, settings.topic_prefix))
        return
    first: date = (from_day or to_day).date()
    last: date = (to_day or from_day).date()
    if last < first:
        raise typer.BadParameter("--to must not be before --from")
    sent = asyncio.run(publish_days(bootstrap, settings.topic_prefix, list(days_between(first, last))))
    typer.echo(f"{sent} day tick(s) from {first} to {last}")


@app.command()
def serve(port: int = typer.Option(8103, help="HTTP port.")) -> None:
    """Run the followup service."""
    from services.followup.app import DEFINITION
    from services.runtime.service import serve as serve_service

    serve_service(DEFINITION, port=port)


@app.callback()
def main() -> None:
    """The followup service: parcours, lost detection, check-ins, worklist, day clock."""
