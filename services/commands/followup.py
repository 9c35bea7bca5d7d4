"""`ariane followup ...`: command-line work of the followup service."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
