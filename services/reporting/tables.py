"""The report's tables in display order, as (name, rows): shared by CSV export and the terminal view."""

from __future__ import annotations

from typing import Any


def report_tables(report: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    delays = [{"stage": stage, **stats} for stage, stats in report["delays_days"].items()]
    return [
        ("persons_by_state", report["persons_by_state"]),
        ("flows", report["flows"]),
        ("delays_days", delays),
        ("exits", report["exits"]),
        ("barriers", report["barriers"]),
        ("lost_reengaged", [report["lost_reengaged"]]),
        ("cohorts", report["cohorts"]),
        ("dispositifs", report["dispositifs"]),
    ]
