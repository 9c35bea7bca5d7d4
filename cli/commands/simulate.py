"""`ariane simulate ...`: a simulated territory year sent as partners send it, with its ground truth."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contracts.territory import load_territory
from local import catalogue
from services.runtime.settings import RuntimeSettings
from simulator.driver import drive
from simulator.presets import PRESETS
from simulator.senders import HttpSender, KafkaSender, Sender, load_api_keys
from simulator.year import simulate

app = typer.Typer(no_args_is_help=False, help="Simulate a territory year (partner events + clock) with its ground truth.")


def _speed(value: str) -> float | None:
    if value == "fast":
        return None
    try:
        rate = float(value)
    except ValueError:
        raise typer.BadParameter("--speed is 'fast' or a number of events per second") from None
    if rate <= 0:
        raise typer.BadParameter("--speed must be positive")
    return rate


@app.callback(invoke_without_command=True)
def main(
    preset: str = typer.Option("cite-emploi-angers", help=f"One of: {', '.join(PRESETS)}."),
    people: int = typer.Option(None, help="Number of people (default: the preset's)."),
    seed: int = typer.Option(1, help="Same preset and seed: the same events and truth, byte for byte."),
    days: int = typer.Option(365, min=1, help="Days simulated from the territory's start date."),
    out: Path = typer.Option(Path(".var/simulation"), help="Where events.jsonl and truth.json are written."),
    via: str = typer.Option("kafka", help="kafka (each structure on ariane.inbound.v1.<structure id>), http (intake POST /v1/events) or none."),
    speed: str = typer.Option("fast", help="'fast' or events per second."),
    intake_url: str = typer.Option(None, help="Intake's base URL (--via http; default: its own port on 127.0.0.1)."),
    api_keys: Path = typer.Option(None, help="JSON file {structure_id: api_key} (--via http)."),
    territory_file: Path = typer.Option(None, "--territory", help="Territory file (default: Angers Loire Métropole)."),
) -> None:
    console = Console()
    if preset not in PRESETS:
        raise typer.BadParameter(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if via not in ("kafka", "http", "none"):
        raise typer.BadParameter("--via is kafka, http or none")
    rate = _speed(speed)
    territory = load_territory(territory_file)
    year = simulate(preset, people=people, seed=seed, days=days, territory=territory)
    events_path, truth_path = year.write(out)
    truth = year.truth()
    console.print(f"[bold]{preset}[/]: {len(year.scripts)} people, {year.event_count()} events over {days} days "
                  f"-> {events_path}, {truth_path}")
    if via != "none":
        settings = RuntimeSettings()
        bootstrap = settings.bootstrap()
        sender: Sender
        if via == "http":
            if api_keys is None:
                raise typer.BadParameter("--via http needs --api-keys")
            url = intake_url or f"http://127.0.0.1:{catalogue.by_name('intake').default_port}"
            sender = HttpSender(url, load_api_keys(str(api_keys)), bootstrap, settings.topic_prefix,
                                security=_tooling_security(bootstrap, settings))
        else:
            sender = KafkaSender(bootstrap, settings.topic_prefix, security=_tooling_security(bootstrap, settings),
                                 partner_security=lambda structure: _partner_security(bootstrap, structure, settings))
        asyncio.run(_send(year, sender, rate, console))
    report = truth["report"]
    console.print(f"people {report['people_registered']} · events {year.event_count()} · days {days} · "
                  f"expected lost {report['lost_people']} (detections {report['lost_detections']}, "
                  f"still lost at the end {report['lost_at_end']}) · by reason {report['lost_by_reason']}")


async def _send(year, sender: Sender, rate: float | None, console: Console) -> None:  # noqa: ANN001
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("days"),
                  TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("sending", total=year.days)
        await sender.start()
        try:
            stats = await drive(year.stream(), sender, events_per_second=rate,
                                on_day=lambda d: progress.update(task, advance=1, description=f"{d.day}"))
        finally:
            await sender.stop()
    console.print(f"sent {sender.sent} events and {stats.ticks} ticks in {stats.seconds:.1f} s"
                  + (f"; {sender.unresolved} events dropped (Ariane never published what they answer)"
                     if sender.unresolved else ""))


def _tooling_security(bootstrap: str, settings: RuntimeSettings) -> dict:
    """The simulator plays every partner and the territory's clock at once: it runs as the admin principal."""
    from services.runtime.kafka_security import ADMIN, client_security

    return client_security(bootstrap, ADMIN, settings)


def _partner_security(bootstrap: str, structure: str, settings: RuntimeSettings) -> dict:
    """Each partner writes its own topic as itself (partner-<structure id>): the broker lets nobody else."""
    from local.kafka.security import partner_principal
    from services.runtime.kafka_security import client_security

    return client_security(bootstrap, partner_principal(structure), settings)
