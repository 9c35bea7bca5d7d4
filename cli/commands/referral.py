"""`ariane referral ...`: command-line work of the referral service."""

from __future__ import annotations

import json

import typer

from services.runtime.auth import token_digest

app = typer.Typer(no_args_is_help=True)


@app.command("token-entry")
def token_entry(token: str = typer.Argument(..., help="The bearer token a structure will present."),
                structure: str = typer.Argument(..., help="The structure id it authenticates.")) -> None:
    """Print the ARIANE_REFERRAL_TOKENS entry for a token (only its sha256 is stored, as the read API checks it)."""
    typer.echo(json.dumps({token_digest(token): structure}))


@app.command("rules")
def rules(territory_file: str = typer.Option(None, help="Territory file (default: the bundled one).")) -> None:
    """List the orientation rules of the territory, in the order they are tried."""
    from contracts.territory import load_territory

    territory = load_territory(territory_file)
    for rule in territory.orientation:
        kind = "primary" if rule.primary else "additional"
        typer.echo(f"{rule.id:28} {kind:10} -> {rule.to:30} {rule.reason}")
