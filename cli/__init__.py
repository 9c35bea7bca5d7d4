"""The `ariane` command: the one package that may know every service."""
