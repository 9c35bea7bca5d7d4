"""`ariane intake ...`: command-line work of the intake service (the OpenAPI document; who saw whose identity,
`cli.commands.disclosures`; the structures' keys are `cli.commands.structures`, also reachable here as
`ariane intake structures`)."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import typer

from cli.commands.disclosures import disclosures
from cli.commands.structures import app as structures

app = typer.Typer(no_args_is_help=True)
app.add_typer(structures, name="structures")
app.command("disclosures")(disclosures)

OPENAPI_FILE = Path(str(files("contracts") / "openapi" / "intake.json"))


def openapi_document() -> dict:
    from services.intake.api import openapi_document as intake_openapi
    from services.intake.app import definition
    from services.runtime.service import create_app

    return intake_openapi(create_app(definition()))


@app.command("openapi")
def export_openapi(check: bool = typer.Option(False, help="Fail if the committed document is out of date.")) -> None:
    """Write (or check) the committed OpenAPI document of intake's HTTP API."""
    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if check:
        if not OPENAPI_FILE.exists() or OPENAPI_FILE.read_text(encoding="utf-8") != text:
            typer.echo(f"{OPENAPI_FILE.name} is out of date: run `ariane intake openapi`", err=True)
            raise typer.Exit(1)
        typer.echo("contracts/openapi/intake.json is up to date")
        return
    OPENAPI_FILE.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {OPENAPI_FILE}")
