"""`ariane referral ...`: command-line work of the referral service."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("rules")
def rules(territory_file: str = typer.Option(None, help="Territory file (default: the bundled one).")) -> None:
    """List the orientation rules of the territory, in the order they are tried."""
    from contracts.territory import load_territory

    territory = load_territory(territory_file)
    for rule in territory.orientation:
        kind = "primary" if rule.primary else "additional"
        typer.echo(f"{rule.id:28} {kind:10} -> {rule.to:30} {rule.reason}")
