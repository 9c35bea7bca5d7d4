"""`ariane referral ...`: command-line work of the referral service."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
