"""Coordinators' figures as Prometheus metrics, derived from the latest computed report.

Every gauge is declared once in `GAUGES`: its name, help, labels, and the (labels, value) samples it reads
from the typed report; samples with the same labels are summed, so "other" gathers everything unnamed.
Labels are bounded: states, exit classes and barrier kinds are fixed lists, and structures and dispositifs
not named in the territory file are reported as "other". No person id ever becomes a label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from services.reporting.domain.flows import OUTCOMES
from services.reporting.domain.report import Report

DELAY_BUCKETS = (1, 2, 5, 10, 15, 30, 45, 60, 90)
OTHER = "other"
NO_DISPOSITIF = "none"

Labels = tuple[str, ...]
Bounded = Callable[[str], str]  # a structure or dispositif id, or "other"
Samples = Callable[[Report, Bounded], Iterable[tuple[Labels, int]]]


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    labels: Labels
    samples: Samples


GAUGES = (
    Gauge("ariane_reporting_persons", "People by current state and structure", ("state", "structure"),
          lambda r, b: (((row.state, b(row.structure)), row.persons) for row in r.persons_by_state)),
    Gauge("ariane_reporting_referrals", "Referrals issued between structures, by outcome",
          ("from_structure", "to_structure", "outcome"),
          lambda r, b: (((b(row.from_structure), b(row.to), outcome), getattr(row, outcome))
                        for row in r.flows for outcome in OUTCOMES)),
    Gauge("ariane_reporting_exits", "Exits from dispositifs by class", ("dispositif", "exit_class"),
          lambda r, b: (((b(row.dispositif), row.exit_class), row.exits) for row in r.exits)),
    Gauge("ariane_reporting_barriers", "Barriers identified and lifted by kind", ("kind", "dispositif", "status"),
          lambda r, b: (((row.kind, b(row.dispositif) if row.dispositif else NO_DISPOSITIF, status),
                         getattr(row, status)) for row in r.barriers for status in ("identified", "lifted"))),
    Gauge("ariane_reporting_people_lost", "People ever detected lost (perdu de vue)", (),
          lambda r, b: [((), r.lost_reengaged.lost)]),
    Gauge("ariane_reporting_people_reengaged", "Lost people held again", (),
          lambda r, b: [((), r.lost_reengaged.reengaged)]),
    Gauge("ariane_reporting_people_lost_now", "People lost right now", (),
          lambda r, b: [((), r.lost_reengaged.lost_now)]),
)


def summed(samples: Iterable[tuple[Labels, int]]) -> list[tuple[Labels, int]]:
    totals: dict[Labels, int] = {}
    for labels, value in samples:
        totals[labels] = totals.get(labels, 0) + value
    return sorted(totals.items())


class ReportCollector(Collector):
    """Yields the metrics of `report`, which the metrics task refreshes after new events were applied."""

    def __init__(self, known_ids: frozenset[str]) -> None:
        self.known = known_ids
        self.report: Report | None = None

    def _bounded(self, value: str) -> str:
        return value if value in self.known else OTHER

    def collect(self) -> Iterator[Any]:
        report = self.report
        if report is None:
            return
        for gauge in GAUGES:
            family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
            for labels, value in summed(gauge.samples(report, self._bounded)):
                family.add_metric(list(labels), value)
            yield family
        hist = HistogramMetricFamily("ariane_reporting_referral_delay_days",
                                     "Referral delays in days, by stage", labels=["stage"])
        for stage, stats in report.delays_days:
            buckets = [(str(b), sum(1 for v in stats.samples if v <= b)) for b in DELAY_BUCKETS]
            buckets.append(("+Inf", len(stats.samples)))
            hist.add_metric([stage], buckets, sum_value=sum(stats.samples))
        yield hist
