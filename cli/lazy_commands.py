"""Commands whose module is imported only when that command runs (or when help lists them all).

Building every command at start-up imported the services' code behind them (reporting's store, the contracts,
FastAPI): seconds before `ariane run status` or `ariane worklist` could even read its arguments, and more on a
loaded machine, which is exactly when an operator runs them. Each lazy command is named here by its module and
attribute; its import cost is paid by whoever runs it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click
import typer
import typer.core


@dataclass(frozen=True)
class Lazy:
    """A command in `module`: `attribute` is a Typer app (a group of subcommands) or a command function."""

    module: str
    attribute: str
    help: str | None = None  # a group's one-line help, as `add_typer(help=...)` would give it

    def load(self, name: str) -> click.Command:
        target = getattr(importlib.import_module(self.module), self.attribute)
        if isinstance(target, typer.Typer):
            command = typer.main.get_command(target)
            if self.help is not None:
                command.help = self.help
        else:
            single = typer.Typer()
            single.command(name)(target)
            command = typer.main.get_command(single)  # one command and no callback: the command itself
        command.name = name
        return command


class LazyGroup(typer.core.TyperGroup):
    """A group that knows its lazy commands by name and imports one the first time it is asked for it."""

    lazy: dict[str, Lazy] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = super().list_commands(ctx)
        return [*[name for name in self.lazy if name not in eager], *eager]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in self.lazy:
            return found
        command = self.lazy[cmd_name].load(cmd_name)
        self.add_command(command, cmd_name)
        return command


def lazy_group(commands: dict[str, Lazy]) -> type[LazyGroup]:
    """A LazyGroup class that knows `commands` (Typer takes the group's class, not an instance)."""
    return type("ArianeCommands", (LazyGroup,), {"lazy": dict(commands)})
