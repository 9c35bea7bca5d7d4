"""The canonical report: every table computed from the projection for a period, as one typed `Report`.

Pure: a state and a period in, integers and strings out (shares in per mille, delays in whole days,
quantiles by nearest rank), so its canonical JSON is the same on every platform and its digest (digest.py)
is one an auditor can compare with the live service's. Each group of tables is computed in its own module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from services.reporting.domain.barriers import (BarrierRow, barriers, childcare_by_dispositif, lifted_by_dispositif,
                                                lifted_by_person)
from services.reporting.domain.calendar import Period
from services.reporting.domain.cohorts import CohortRow, cohorts
from services.reporting.domain.delays import Delays, delays
from services.reporting.domain.dispositifs import DispositifRow, dispositifs
from services.reporting.domain.documents import State
from services.reporting.domain.exits import ExitRow, exit_classes_by_person, exits
from services.reporting.domain.flows import FlowRow, flows
from services.reporting.domain.persons import LostReengaged, PersonsRow, lost_reengaged, persons_by_state
from services.reporting.domain.rows import Row
from services.reporting.domain.transfers import TransferRow, transfers
from services.reporting.domain.views import views

# 2: the `transfers` table (caseload transfers) and the childcare solutions by kind in `dispositifs`. A new table
# or column changes every digest, so it changes the version.
REPORT_VERSION = 2


class ReportPeriod(Row):
    start: date | None
    end: date | None  # an open end is "today": the latest business day known


class Report(Row):
    version: int
    territory: str
    period: ReportPeriod
    persons_by_state: tuple[PersonsRow, ...]
    flows: tuple[FlowRow, ...]
    delays_days: Delays
    exits: tuple[ExitRow, ...]
    barriers: tuple[BarrierRow, ...]
    lost_reengaged: LostReengaged
    cohorts: tuple[CohortRow, ...]
    dispositifs: tuple[DispositifRow, ...]
    transfers: tuple[TransferRow, ...]


def compute(state: State, period: Period = Period(), territory: str = "") -> Report:
    v = views(state)
    start = period.start.isoformat() if period.start else ""
    end = period.end.isoformat() if period.end else v.today
    by_state = persons_by_state(v)
    exits_by_person = exit_classes_by_person(v, period)
    return Report(
        version=REPORT_VERSION,
        territory=territory,
        period=ReportPeriod(start=period.start, end=end or None),
        persons_by_state=by_state,
        flows=flows(v, period),
        delays_days=delays(v, period),
        exits=exits(v, period),
        barriers=barriers(v, period),
        lost_reengaged=lost_reengaged(v, period, by_state),
        cohorts=cohorts(v, start, end, exits_by_person, lifted_by_person(v, period)),
        dispositifs=dispositifs(v, period, end, exits_by_person, lifted_by_dispositif(v, period),
                                childcare_by_dispositif(v, period)),
        transfers=transfers(v, period),
    )


def as_json(report: Report | Mapping[str, Any]) -> dict[str, Any]:
    """The report as it is served, exported and digested: JSON names, ISO dates."""
    return report.model_dump(mode="json") if isinstance(report, Report) else dict(report)


def build_report(state: State, period: Period = Period(), territory: str = "") -> dict[str, Any]:
    """The report in its JSON form."""
    return as_json(compute(state, period, territory))


def report_tables(report: Report | Mapping[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The report's tables in display order, as (name, rows): shared by CSV export and the terminal view."""
    data = as_json(report)
    delay_rows = [{"stage": stage, **stats} for stage, stats in data["delays_days"].items()]
    return [
        ("persons_by_state", data["persons_by_state"]),
        ("flows", data["flows"]),
        ("delays_days", delay_rows),
        ("exits", data["exits"]),
        ("barriers", data["barriers"]),
        ("lost_reengaged", [data["lost_reengaged"]]),
        ("cohorts", data["cohorts"]),
        ("dispositifs", data["dispositifs"]),
        ("transfers", data["transfers"]),
    ]


def to_csv(report: Report | Mapping[str, Any]) -> str:
    """Every table of the report in one CSV: a `table` column, then that table's columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, rows in report_tables(report):
        if not rows:
            continue
        columns = list(rows[0])
        writer.writerow(["table", *columns])
        for row in rows:
            writer.writerow([name, *("" if row[c] is None else row[c] for c in columns)])
    return out.getvalue()
