"""`ariane followup ...`: command-line work of the followup service (and its day clock, a service of its own)."""

from __future__ import annotations

import typer

from cli.commands.clock import clock

app = typer.Typer(no_args_is_help=True)
app.command("clock")(clock)


@app.command()
def serve(port: int = typer.Option(8103, help="HTTP port.")) -> None:
    """Run the followup service."""
    from services.followup.app import definition
    from services.runtime.service import serve as serve_service

    serve_service(definition(), port=port)


@app.callback()
def main() -> None:
    """The followup service: parcours, lost detection, check-ins, worklist, day clock."""
