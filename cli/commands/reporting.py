"""`ariane reporting ...` (aliased at the top level): reports, the auditor's replay, log export and check."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from dataclasses import replace
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.render_report import render
from contracts.erasure import erased_people, without_file_number
from contracts.territory import Territory, load_territory
from services.reporting.app import CONSUMES
from services.reporting.domain.calendar import Period, end_of_day, zone_of
from services.reporting.domain.digest import digest
from services.reporting.domain.report import Report, as_json, compute, to_csv
from services.reporting.settings import ReportingSettings
from services.reporting.store.archive import ArchiveError, read_archive, verify_archive, write_archive
from services.reporting.store.documents import load_state
from services.reporting.store.replay import default_replay_url, read_log, replay as run_replay
from services.reporting.store.schema import SERVICE, VERSIONS_DIR, metadata
from services.runtime.db import make_engine
from services.runtime.migrate import upgrade_to_head
from services.runtime.records import Record
from services.runtime.settings import RuntimeSettings

app = typer.Typer(no_args_is_help=True)


class Format(str, Enum):
    rich = "rich"
    json = "json"
    csv = "csv"


def _territory() -> Territory:
    return load_territory(ReportingSettings().territory_file)


def _emit(report: Report, fmt: Format, *, extra: dict | None = None) -> None:
    d = digest(report)
    if fmt is Format.json:
        print(json.dumps({"report": as_json(report), "digest": d, **(extra or {})}, ensure_ascii=False, indent=1))
    elif fmt is Format.csv:
        sys.stdout.write(to_csv(report))
        sys.stdout.write(f"# digest {d}\n")
    else:
        render(report, d, Console())
        if extra:
            Console().print(" ".join(f"{k}={v}" for k, v in extra.items()))


def report(
    start: Optional[datetime] = typer.Option(None, formats=["%Y-%m-%d"], help="First day of the period."),
    end: Optional[datetime] = typer.Option(None, formats=["%Y-%m-%d"], help="Last day of the period."),
    fmt: Format = typer.Option(Format.rich, "--format", help="rich (terminal), json or csv."),
    database_url: Optional[str] = typer.Option(None, help="The reporting store (default: the service's)."),
) -> None:
    """Print the outcome tables of the reporting service's store for a period."""
    url = database_url or RuntimeSettings().database_url_for(SERVICE)

    async def load() -> Report:
        engine = make_engine(url)
        try:
            await upgrade_to_head(engine, SERVICE, metadata, VERSIONS_DIR)
            return compute(await load_state(engine), _period(start, end), _territory().id)
        finally:
            await engine.dispose()

    _emit(asyncio.run(load()), fmt)


def _period(start: datetime | None, end: datetime | None) -> Period:
    return Period(start.date() if start else None, end.date() if end else None)


async def _archive_batches(path: Path, progress):  # noqa: ANN001, ANN202
    batch: list[Record] = []
    count = 0
    for _topic, record in read_archive(path):
        batch.append(record)
        if len(batch) >= 5000:
            count += len(batch)
            progress(count, 0)
            yield batch
            batch = []
    if batch:
        progress(count + len(batch), 0)
        yield batch


def replay(
    as_of: Optional[datetime] = typer.Option(None, formats=["%Y-%m-%d"],
                                             help="Figures as known on that date: later-recorded events ignored."),
    start: Optional[datetime] = typer.Option(None, formats=["%Y-%m-%d"]),
    end: Optional[datetime] = typer.Option(None, formats=["%Y-%m-%d"]),
    archive: Optional[Path] = typer.Option(None, help="Replay an exported archive instead of the topics."),
    database_url: Optional[str] = typer.Option(None, help="A fresh store to rebuild (default: a temp SQLite)."),
    fmt: Format = typer.Option(Format.rich, "--format"),
) -> None:
    """Rebuild the figures from the event log alone into an empty store, and print them with their digest."""
    settings = RuntimeSettings()
    territory = _territory()
    cutoff = end_of_day(as_of.date(), zone_of(territory)) if as_of else None
    console = Console(stderr=True)

    async def go(url: str):  # noqa: ANN202
        with Progress(TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=fmt is not Format.rich) as bar:
            task = bar.add_task("replay", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total or None)

            if archive is not None:
                batches = _archive_batches(archive, progress)
            else:
                batches = read_log(settings.bootstrap(), [settings.topic(t) for t in CONSUMES], progress, raw=True)
            return await run_replay(batches, database_url=url, period=_period(start, end), as_of=cutoff,
                                    territory=territory.id, zone=zone_of(territory),
                                    report_in_child=ReportingSettings().replay_report_in_child)

    try:
        if database_url:
            result = asyncio.run(go(database_url))
        else:
            with tempfile.TemporaryDirectory() as scratch:
                result = asyncio.run(go(default_replay_url(Path(scratch))))
    except ArchiveError as exc:
        console.print(f"[red]archive rejected:[/red] {exc}")
        raise typer.Exit(2) from None
    _emit(result.report, fmt, extra={"records": result.records, "folded": result.folded,
                                     "events_per_s": int(result.rate),
                                     "as_of": as_of.date().isoformat() if as_of else None})


def erasures_applied(records: list[tuple[str, Record]]) -> list[tuple[str, Record]]:
    """The records as an archive keeps them: the erasures the log holds are applied (an erased person's
    registrations and profile updates lose the structure's file number; contracts.erasure)."""
    erased = erased_people(record.value for _topic, record in records)
    return [(topic, replace(record, value=without_file_number(record.value, erased))) for topic, record in records]


def export_archive(path: Path, records: list[tuple[str, Record]]) -> tuple[int, str]:
    """Write the archive of these records (in log order), erasures applied; returns (count, last hash)."""
    return write_archive(path, erasures_applied(records), topics=list(CONSUMES))


def export_log(
    path: Path = typer.Argument(..., help="Archive to write (gzip of hash-chained JSON lines)."),
) -> None:
    """Write the reporting topics to a compressed, hash-chained archive (erasures applied: no erased person's
    file number)."""
    settings = RuntimeSettings()
    physical = {settings.topic(t): t for t in CONSUMES}

    async def collect() -> list[tuple[str, Record]]:
        out: list[tuple[str, Record]] = []
        async for batch in read_log(settings.bootstrap(), list(physical)):
            out.extend((physical[r.topic], r) for r in batch)
        out.sort(key=lambda pair: (pair[0], pair[1].partition, pair[1].offset))
        return out

    count, last = export_archive(path, asyncio.run(collect()))
    Console(stderr=True).print(f"exported {count} records to {path} (last hash {last[:16]}…)")


def verify_log(path: Path = typer.Argument(..., help="Archive written by export-log.")) -> None:
    """Check an archive's hash chain; fails naming the first altered, missing or reordered record."""
    try:
        count = verify_archive(path)
    except ArchiveError as exc:
        Console(stderr=True).print(f"[red]INVALID[/red] {exc}")
        raise typer.Exit(1) from None
    Console().print(f"OK {count} records, chain intact")


app.command("report")(report)
app.command("replay")(replay)
app.command("export-log")(export_log)
app.command("verify-log")(verify_log)
