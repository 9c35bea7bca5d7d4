"""`ariane intake ...`: command-line work of the intake service."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
