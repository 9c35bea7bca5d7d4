"""The `ariane` command: the one module that may know every service."""

from __future__ import annotations

import typer

from services.commands import contracts as contracts_commands
from services.commands import kafka as kafka_commands

app = typer.Typer(no_args_is_help=True, help="Ariane: no jobseeker lost between structures.")
app.add_typer(contracts_commands.app, name="contracts", help="Export and check the event contracts.")
app.add_typer(kafka_commands.app, name="kafka", help="Run a real local Apache Kafka broker.")

if __name__ == "__main__":
    app()
