"""Coordinators' figures as Prometheus metrics, read from the latest computed report.

Labels are bounded: states, exit classes and barrier kinds are fixed lists, and structures and dispositifs
not named in the territory file are reported as "other". No person id ever becomes a label.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

DELAY_BUCKETS = (1, 2, 5, 10, 15, 30, 45, 60, 90)
OTHER = "other"


class ReportCollector(Collector):
    """Yields gauges from `snapshot`, which the service refreshes after new batches."""

    def __init__(self, known_ids: frozenset[str]) -> None:
        self.known = known_ids
        self.snapshot: dict[str, Any] | None = None
        self.delays: dict[str, list[int]] = {}

    def _id(self, value: str) -> str:
        return value if value in self.known else OTHER

    def collect(self) -> Iterator[Any]:
        report = self.snapshot
        if report is None:
            return
        persons = GaugeMetricFamily("ariane_reporting_persons", "People by current state and structure",
                                    labels=["state", "structure"])
        totals: dict[tuple[str, str], int] = {}
        for row in report["persons_by_state"]:
            key = (row["state"], self._id(row["structure"]))
            totals[key] = totals.get(key, 0) + row["persons"]
        for key, n in sorted(totals.items()):
            persons.add_metric(list(key), n)
        yield persons

        flows = GaugeMetricFamily("ariane_reporting_referrals", "Referrals issued between structures, by outcome",
                                  labels=["from_structure", "to_structure", "outcome"])
        agg: dict[tuple[str, str, str], int] = {}
        for row in report["flows"]:
            for outcome in ("issued", "accepted", "refused", "expired", "appt"):
                key = (self._id(row["from"]), self._id(row["to"]), outcome)
                agg[key] = agg.get(key, 0) + row[outcome]
        for key, n in sorted(agg.items()):
            flows.add_metric(list(key), n)
        yield flows

        exits = GaugeMetricFamily("ariane_reporting_exits", "Exits from dispositifs by class",
                                  labels=["dispositif", "exit_class"])
        agg2: dict[tuple[str, str], int] = {}
        for row in report["exits"]:
            key = (self._id(row["dispositif"]), row["exit_class"])
            agg2[key] = agg2.get(key, 0) + row["exits"]
        for key, n in sorted(agg2.items()):
            exits.add_metric(list(key), n)
        yield exits

        barriers = GaugeMetricFamily("ariane_reporting_barriers", "Barriers identified and lifted by kind",
                                     labels=["kind", "dispositif", "status"])
        agg3: dict[tuple[str, str, str], int] = {}
        for row in report["barriers"]:
            d = self._id(row["dispositif"]) if row["dispositif"] else "none"
            for status in ("identified", "lifted"):
                key = (row["kind"], d, status)
                agg3[key] = agg3.get(key, 0) + row[status]
        for key, n in sorted(agg3.items()):
            barriers.add_metric(list(key), n)
        yield barriers

        lr = report["lost_reengaged"]
        for name, help_text, value in (
            ("ariane_reporting_people_lost", "People ever detected lost (perdu de vue)", lr["lost"]),
            ("ariane_reporting_people_reengaged", "Lost people held again", lr["reengaged"]),
            ("ariane_reporting_people_lost_now", "People lost right now", lr["lost_now"]),
        ):
            yield GaugeMetricFamily(name, help_text, value=value)

        hist = HistogramMetricFamily("ariane_reporting_referral_delay_days",
                                     "Referral delays in days, by stage", labels=["stage"])
        for stage, values in sorted(self.delays.items()):
            buckets = [(str(b), sum(1 for v in values if v <= b)) for b in DELAY_BUCKETS]
            buckets.append(("+Inf", len(values)))
            hist.add_metric([stage], buckets, sum_value=sum(values))
        yield hist
