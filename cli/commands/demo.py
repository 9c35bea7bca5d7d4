"""`ariane demo`: a territory year through the four services on a real local Kafka, in about a minute."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.commands.worklist import render_table
from contracts.territory import load_territory
from local.pipeline import LocalPipeline, PipelineError
from services.runtime.settings import RuntimeSettings


def demo(
    preset: str = typer.Option("cite-emploi-angers", help="Simulator preset (cite-emploi-angers, par-emploi, territory)."),
    people: int = typer.Option(None, help="Number of people (default: the preset's)."),
    seed: int = typer.Option(1, help="Seed of the simulated year."),
    days: int = typer.Option(365, min=1, help="Simulated days."),
    late_share: float = typer.Option(None, min=0.0, max=1.0,
                                     help="Share of partner events recorded 1 to 10 days late (default: the "
                                          "preset's, none)."),
    keep_running: bool = typer.Option(False, help="Leave Kafka and the services up at the end."),
) -> None:
    """Run a simulated territory year through intake, referral, followup and reporting, then print the
    report (for par-emploi, next to the seed's own table) and the coordinator's worklist."""
    console = Console()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = (RuntimeSettings().var_dir / "demo" / stamp).resolve()
    pipeline = LocalPipeline(run_dir=run_dir, prefix=f"demo-{stamp}.", with_web=True)
    stop_requested = False

    def _interrupt(*_: object) -> None:
        nonlocal stop_requested
        stop_requested = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    finished = False

    def _finished() -> None:
        nonlocal finished
        finished = True

    try:
        asyncio.run(_demo(console, pipeline, preset, people, seed, days, keep_running, _finished, late_share))
    except KeyboardInterrupt:
        if keep_running and finished:
            # --keep-running: Ctrl-C is how the user says they are done with the page; not a failure.
            console.print("stopping everything the demo started…")
            asyncio.run(pipeline.stop())
            return
        console.print("[yellow]interrupted: stopping everything the demo started…[/]")
        asyncio.run(pipeline.stop())
        raise typer.Exit(130) from None
    except PipelineError as exc:
        console.print(f"[red]demo failed:[/] {exc}")
        asyncio.run(pipeline.stop())
        raise typer.Exit(1) from None


async def _demo(console: Console, pipeline: LocalPipeline, preset: str, people: int | None, seed: int, days: int,
                keep_running: bool, finished: Callable[[], None] = lambda: None,
                late_share: float | None = None) -> None:
    from simulator.driver import drive
    from simulator.presets import get_preset
    from simulator.senders import HttpSender
    from simulator.year import simulate

    began = time.monotonic()
    try:
        with console.status("starting Kafka and the four services…"):
            await pipeline.start()
        console.print(f"[green]✓[/] Kafka at {pipeline.bootstrap}, services up "
                      f"({', '.join(f'{n} :{p}' for n, p in pipeline.ports.items())}) "
                      f"in {time.monotonic() - began:.1f} s; stores in {pipeline.run_dir}")

        territory = load_territory(pipeline.territory_file)
        chosen = get_preset(preset) if late_share is None else replace(get_preset(preset), late_share=late_share)
        year = simulate(chosen, people=people, seed=seed, days=days, territory=territory)
        year.write(pipeline.run_dir / "simulation")
        truth = year.truth()
        console.print(f"[green]✓[/] {preset}: {len(year.scripts)} people, {year.event_count()} partner events over "
                      f"{days} days, sent over HTTP with each structure's API key")
        if "late" in truth["report"]:
            console.print(f"  recorded late by their partners: {truth['report']['late']['events_sent_late']} events, "
                          f"{truth['report']['late']['answers_dated_in_time_sent_after_the_deadline']} of them "
                          f"answers dated before a referral's deadline and sent after it")

        sender = HttpSender(pipeline.url("intake"), pipeline.api_keys, pipeline.bootstrap, pipeline.prefix,
                            security=pipeline.kafka_security())
        await sender.start()
        try:
            with Progress(TextColumn("simulated days"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console, transient=False) as progress:
                task = progress.add_task("days", total=days)
                stats = await drive(year.stream(), sender, drained=pipeline.day_boundary,
                                    on_day=lambda _day: progress.advance(task))
        finally:
            await sender.stop()
        await pipeline.drained()
        console.print(f"[green]✓[/] {stats.events} events and {stats.ticks} day ticks through the pipeline "
                      f"in {stats.seconds:.1f} s")

        from cli.render_report import render

        report, digest = await pipeline.report()
        render(report, digest, console)
        if year.preset.seed_figures and year.preset.forced_route:
            from cli.par_emploi_table import render_seed_table

            render_seed_table(report, year.preset.forced_route, year.preset.seed_figures, console)
        await _print_worklist(console, pipeline, truth)
        ledger = await pipeline.ledger()
        console.print(f"conservation ledger: {ledger['registered']} registered, {ledger['merged']} merged, "
                      f"balanced={ledger['balanced']}")
        _print_where(console, pipeline)
        console.print(f"demo done in {time.monotonic() - began:.1f} s")
        finished()
        if keep_running:
            console.print("[bold]--keep-running:[/] everything stays up; Ctrl-C stops it.")
            console.print(f"  sign in with the coordinator's key: {pipeline.coordinator_token}")
            console.print(f"[bold]The coordinators' page:[/] {pipeline.url('web')}/")
            while True:
                await asyncio.sleep(3600)
        console.print(f"[bold]The coordinators' page[/] (up while the demo ran; `ariane demo --keep-running` "
                      f"keeps it up and prints a key to sign in): {pipeline.url('web')}/")
    finally:
        if not keep_running:
            await pipeline.stop()


async def _print_worklist(console: Console, pipeline: LocalPipeline, truth: dict) -> None:
    """The coordinator's most urgent lines as `ariane worklist` prints them: the file number when the acting
    structure gave one, the whole pseudonymous id otherwise, and the id to answer, never cut when piped."""
    worklist = await pipeline.worklist()
    console.print(f"[bold]Coordinator's worklist on {worklist['today']}[/]: {worklist['total']} lines, the 20 most "
                  f"urgent (`ariane worklist` prints them all)")
    width = console.width if console.is_terminal else None
    print(render_table(worklist["items"][:20], width))
    expected_lost = truth["report"].get("lost_at_end")
    lost_now = sum(1 for item in worklist["items"] if item["kind"] == "lost")
    console.print(f"people lost at the end of the year: {lost_now} on the worklist, {expected_lost} in the "
                  f"simulation's ground truth")


def _print_where(console: Console, pipeline: LocalPipeline) -> None:
    console.print("[bold]Where to look[/]")
    for name, port in pipeline.ports.items():
        console.print(f"  {name:<10} http://127.0.0.1:{port}/metrics  /health"
                      + ("  (the coordinators' page: /)" if name == "web" else ""))
    console.print(f"  Grafana dashboards: {Path('deploy/grafana').resolve()} (provisioned JSON; see deploy/README.md)")
    console.print(f"  Prometheus config and alert rules: {Path('deploy/prometheus').resolve()}")
    console.print(f"  service logs: {pipeline.run_dir / 'logs'}")
    console.print(f"  credentials book: {pipeline.credentials_file} (the coordinator's key in "
                  f"{pipeline.run_dir / 'coordinator.key'}; more keys: ARIANE_CREDENTIALS_FILE=… ariane structures "
                  "add-user <structure>)")
