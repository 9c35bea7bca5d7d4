"""`ariane intake disclosures`: who saw whose identity, why and when, from intake's audit list.

Read with the caller's own key (`--token` or ARIANE_TOKEN): an auditor's or the coordinator's. A table fits
the terminal it is printed on; piped, it is never cut (CSV and JSON never are).
"""

from __future__ import annotations

import os
from typing import Any

import typer

from cli.api_client import check_format, client, get, print_items, service_url

DEFAULT_URL = "http://127.0.0.1:8101"
COLUMNS = ("disclosed_at", "person_id", "disclosed_to", "basis", "reason", "key_id", "role", "disclosure_id")
TABLE = (("Quand", "disclosed_at"), ("Personne", "person_id"), ("Vu par", "disclosed_to"), ("Base", "basis"),
         ("Motif", "reason"), ("Clé", "key_id"))


def disclosures(person: str = typer.Option(None, "--person", help="One person's id (and the ids merged into it)."),
                structure: str = typer.Option(None, help="Only disclosures to this structure."),
                since: str = typer.Option(None, help="From this time (ISO 8601)."),
                until: str = typer.Option(None, help="Before this time (ISO 8601)."),
                output: str = typer.Option("table", "--format", help="table, csv or json."),
                url: str = typer.Option(None, "--url", help="Intake's address (default: ARIANE_INTAKE_URL, else "
                                        "the local one)."),
                token: str = typer.Option(None, "--token", help="Your access key (default: ARIANE_TOKEN).")) -> None:
    """Print who saw whose identity: when, on what basis, why, with which key."""
    check_format(output)
    token = token or os.environ.get("ARIANE_TOKEN")
    if not token:
        raise typer.BadParameter("an access key is needed: --token or ARIANE_TOKEN", param_hint="--token")
    params = {k: v for k, v in (("person_id", person), ("structure", structure), ("since", since),
                                ("until", until)) if v}
    items = _get(service_url(url, "ARIANE_INTAKE_URL", DEFAULT_URL), token, params)
    print_items(items, output, COLUMNS, render_table)


def _get(base: str, token: str, params: dict[str, str]) -> list[dict[str, Any]]:
    with client(base, "ARIANE_INTAKE_URL", DEFAULT_URL, token) as api:
        return get(api, "/v1/disclosures", params)["items"]


def render_table(items: list[dict[str, Any]], width: int | None) -> str:
    """Aligned columns; with a terminal `width`, the reason (the only free text) is cut to fit, nothing else."""
    if not items:
        return "Aucune divulgation."
    titles = [t for t, _ in TABLE]
    rows = [[str(item.get(key) or "—") for _, key in TABLE] for item in items]
    widths = [max(len(titles[i]), *(len(r[i]) for r in rows)) for i in range(len(TABLE))]
    reason = titles.index("Motif")
    if width is not None:
        others = sum(w for i, w in enumerate(widths) if i != reason) + 2 * (len(TABLE) - 1)
        widths[reason] = max(len(titles[reason]), min(widths[reason], width - others))
    cut = [[c if len(c) <= w else c[: w - 1] + "…" for c, w in zip(r, widths, strict=True)] for r in rows]
    lines = ["  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cut]
    return "\n".join(lines) + f"\n{len(items)} divulgation(s)"
