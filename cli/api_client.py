"""What the commands that read Ariane's HTTP APIs share: the caller's key, one GET with clear errors, and the
three ways to print a list (a table that fits the terminal and is never cut when piped, CSV, JSON)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import typer

from local import run_state
from services.runtime.settings import RuntimeSettings

FORMATS = ("table", "csv", "json")


def client(url: str | None, url_variable: str, default_url: str, token: str | None) -> httpx.Client:
    """A client of one service with the caller's key (`--token`, else ARIANE_TOKEN)."""
    token = token or os.environ.get("ARIANE_TOKEN")
    if not token:
        raise typer.BadParameter("an access key is needed: --token or ARIANE_TOKEN", param_hint="--token")
    return httpx.Client(base_url=service_url(url, url_variable, default_url),
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def service_url(url: str | None, url_variable: str, default_url: str) -> str:
    """Where a service is: `--url`, else its variable (ARIANE_<SERVICE>_URL), else where the `ariane run all` of
    this var dir put it (its services.json, e.g. with --free-ports), else its usual local address."""
    if url or os.environ.get(url_variable):
        return url or os.environ[url_variable]
    name = url_variable.removeprefix("ARIANE_").removesuffix("_URL").lower()
    return run_state.service_url(RuntimeSettings().var_dir, name) or default_url


def get(api: httpx.Client, path: str, params: dict[str, Any] | None = None) -> Any:
    """The JSON answer of a GET; an unreachable service exits 2, a refusal exits 1, each with its reason."""
    return _answer(api, "GET", path, params=params)


def post(api: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    """The JSON answer of a POST of `body`; exits as `get` does."""
    return _answer(api, "POST", path, json=body)


def _answer(api: httpx.Client, method: str, path: str, **request: Any) -> Any:
    try:
        answer = api.request(method, path, **request)
    except httpx.TransportError as exc:
        typer.echo(f"error: nothing answers at {api.base_url}: {exc}", err=True)
        raise typer.Exit(2) from exc
    if answer.status_code != 200:
        detail = answer.json().get("detail") if answer.headers.get("content-type", "").startswith(
            "application/json") else answer.text
        typer.echo(f"error: {answer.status_code} {detail}", err=True)
        raise typer.Exit(1)
    return answer.json()


def check_format(output: str) -> None:
    if output not in FORMATS:
        raise typer.BadParameter(", ".join(FORMATS), param_hint="--format")


def print_items(items: Sequence[dict[str, Any]], output: str, csv_columns: Sequence[str],
                table: Callable[[Sequence[dict[str, Any]], int | None], str]) -> None:
    """`items` as JSON, CSV, or `table(items, width)`: the terminal's width, None when piped (never cut)."""
    if output == "json":
        typer.echo(json.dumps(list(items), ensure_ascii=False, indent=2))
    elif output == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(csv_columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(items)
        typer.echo(buf.getvalue(), nl=False)
    else:
        typer.echo(table(items, shutil.get_terminal_size().columns if sys.stdout.isatty() else None))
