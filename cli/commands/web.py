"""`ariane web serve`: the coordinators' and counsellors' page."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def serve(port: int = typer.Option(8106, help="HTTP port.")) -> None:
    """Run the page; it calls followup, intake and reporting at ARIANE_WEB_FOLLOWUP_URL, _INTAKE_URL and
    _REPORTING_URL (default: their local ports) with each signed-in user's own key."""
    from services.runtime.stateless import serve_stateless
    from services.web.app import definition

    serve_stateless(definition(), port=port)


@app.callback()
def main() -> None:
    """The web page: worklist, timelines, check-in answers and the territory's dashboard, in French."""
