"""Subcommands of the `ariane` command, one module per concern."""
