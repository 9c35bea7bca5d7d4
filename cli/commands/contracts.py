"""`ariane contracts`: export the event contracts and check them against the code."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from contracts.events import ContractError, parse_event
from contracts.export import BreakingChangeError, export

app = typer.Typer(no_args_is_help=True, help="Export and check the event contracts.")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@app.callback()
def contracts() -> None:
    """The v1 event contracts: JSON Schema, AsyncAPI, examples."""


@app.command("export")
def export_command(
    check: bool = typer.Option(False, "--check", help="Write nothing; fail if the files differ from the code "
                               "or the code breaks v1 compatibility."),
    allow_breaking: bool = typer.Option(False, "--allow-breaking", help="Write even if v1 compatibility breaks."),
) -> None:
    """Write contracts/schemas/*.json and contracts/asyncapi.json from the event models."""
    if check:
        problems = export(check=True)
        if problems:
            for problem in problems:
                errors.print(f"[red]✗[/red] {problem}", highlight=False)
            raise typer.Exit(1)
        console.print("[green]✓[/green] contracts match the code and v1 is compatible")
        return
    try:
        written = export(check=False, allow_breaking=allow_breaking)
    except BreakingChangeError as exc:
        for problem in exc.problems:
            errors.print(f"[red]✗[/red] {problem}", highlight=False)
        errors.print("Refusing to write: v1 only grows. Add a field or an event type instead.")
        raise typer.Exit(1) from None
    for path in written:
        console.print(f"wrote {path}", highlight=False)
    if not written:
        console.print("contracts already up to date")


@app.command("validate")
def validate_command(files: list[Path] = typer.Argument(..., help="JSON files, one event each.")) -> None:
    """Validate event files against the contracts, printing field-level errors."""
    failed = False
    for path in files:
        try:
            event = parse_event(path.read_bytes())
        except ContractError as exc:
            failed = True
            errors.print(f"[red]✗[/red] {path}", highlight=False)
            for error in exc.errors:
                errors.print(f"    {error.loc or '(event)'}: {error.msg}", highlight=False)
            continue
        console.print(f"[green]✓[/green] {path}: {event.type}", highlight=False)
    if failed:
        raise typer.Exit(1)
