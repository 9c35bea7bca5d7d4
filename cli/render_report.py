"""The report on a terminal: one rich table per section, then the digest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from services.reporting.domain.report import Report, as_json, report_tables

TITLES = {
    "persons_by_state": "People by state and structure",
    "flows": "Referral flows between structures",
    "delays_days": "Referral delays (days: first decile, median, last decile)",
    "exits": "Exits by class, dispositif and structure",
    "barriers": "Freins périphériques identified and lifted",
    "lost_reengaged": "Lost and re-engaged",
    "cohorts": "Cohorts (Cité de l'emploi report)",
    "dispositifs": "Dispositifs (Par'Emploi report)",
    "transfers": "Caseload transfers (people handed over, by reason)",
}


def render(report: Report | Mapping[str, Any], digest: str, console: Console | None = None) -> None:
    """`report` typed, or in its JSON form as the service serves it."""
    console = console or Console()
    data = as_json(report)
    period = data["period"]
    console.print(f"[bold]Ariane report[/bold] territory={data['territory'] or '-'} "
                  f"period={period['start'] or '…'} → {period['end'] or '…'}")
    for name, rows in report_tables(data):
        table = Table(title=TITLES.get(name, name), title_justify="left")
        if not rows:
            console.print(f"[dim]{TITLES.get(name, name)}: nothing in this period[/dim]")
            continue
        for column in rows[0]:
            table.add_column(column, justify="right" if isinstance(rows[0][column], int) else "left")
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row.values()))
        console.print(table)
    console.print(f"digest {digest}")
