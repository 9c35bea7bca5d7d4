"""Coordinators' figures as Prometheus metrics, kept up to date person by person.

Every gauge is declared once in `GAUGES`: its name, help, labels, and the (labels, value) samples it reads
from the typed report; samples with the same labels are summed, so "other" gathers everything unnamed.
Labels are bounded: states, exit classes and barrier kinds are fixed lists, and structures and dispositifs
not named in the territory file are reported as "other". No person id ever becomes a label.

The whole-time figures behind the metrics are sums over people: every document belongs to one person (identity
merges resolved), and each gauge's samples and each delay sample come from one person's documents alone.
`LiveFigures` keeps each person's share (the report of that person's documents, computed by the report's own
rules) and the totals; a refresh recomputes only the people whose documents changed since the last one, so
its cost grows with the new events, not with the territory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from services.reporting.domain.calendar import Period
from services.reporting.domain.documents import Doc, State
from services.reporting.domain.flows import OUTCOMES
from services.reporting.domain.report import Report, compute
from services.reporting.domain.views import resolve

# The longest a round keeps the event loop between two turns (seconds): a person's share costs about 0.2-0.5 ms,
# so 200 people at a time held the consumer's batches back by 40-100 ms, which went into the commit latency.
YIELD_EVERY_S = 0.005
PEOPLE_PER_READ = 50  # people whose documents a round reads in one query
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


Share = tuple[tuple[tuple[str, Labels, int], ...], tuple[tuple[str, int], ...]]  # gauge samples, delay samples


class LiveFigures:
    """The metrics' figures as the sum of every person's share, updated for the people whose documents change.

    `update(changed, fetch)` takes the documents changed since the last update (key, owner, document) and a
    way to read every document of given people; it recomputes the share of each person concerned (the owners
    of the changed documents, and everyone an identity merge moved) from their documents alone."""

    def __init__(self, bounded: Bounded, territory: str = "") -> None:
        self.bounded = bounded
        self.territory = territory
        self.shares: dict[str, Share] = {}
        self.totals: dict[tuple[str, Labels], list[int]] = {}  # (gauge, labels) -> [value, people sharing it]
        self.delays: dict[tuple[str, int], int] = {}  # (stage, days) -> samples
        self.alias: dict[str, str] = {}  # merged person -> kept person
        self.members: dict[str, set[str]] = {}  # kept (resolved) person -> the ids that resolve to it
        self.seq = -1  # the last write seen

    # -- one person's share, by the report's own rules -------------------------------------------------------
    def share_of(self, docs: State) -> Share | None:
        if not docs:
            return None
        report = compute(docs, Period(), self.territory)
        gauges = tuple((g.name, labels, value) for g in GAUGES for labels, value in summed(g.samples(report,
                                                                                              self.bounded)))
        delays = tuple((stage, value) for stage, stats in report.delays_days for value in stats.samples)
        return gauges, delays

    def _apply(self, share: Share | None, sign: int) -> None:
        if share is None:
            return
        gauges, delays = share
        for name, labels, value in gauges:
            entry = self.totals.setdefault((name, labels), [0, 0])
            entry[0] += sign * value
            entry[1] += sign
            if entry[1] == 0:
                del self.totals[(name, labels)]
        for stage, value in delays:
            key = (stage, value)
            self.delays[key] = self.delays.get(key, 0) + sign
            if self.delays[key] == 0:
                del self.delays[key]

    def _set(self, person: str, share: Share | None) -> None:
        self._apply(self.shares.pop(person, None), -1)
        if share is not None:
            self.shares[person] = share
            self._apply(share, +1)

    # -- identity merges ----------------------------------------------------------------------------------
    def _merge(self, aliases: dict[str, str]) -> set[str]:
        """Take new or changed merges; the ids whose resolved person changed, with their old and new one."""
        known = set(self.alias) | set(self.alias.values()) | set(aliases) | set(aliases.values())
        before = {x: resolve(self.alias, x) for x in known}
        self.alias.update(aliases)
        moved: set[str] = set()
        for x in known:
            after = resolve(self.alias, x)
            if after != before[x]:
                moved.update((x, before[x], after))
        self.members = {}
        for x in set(self.alias) | set(self.alias.values()):
            self.members.setdefault(resolve(self.alias, x), set()).add(x)
        return moved

    def people_of(self, root: str) -> set[str]:
        return {root} | self.members.get(root, set())

    async def update(self, changed: list[tuple[str, str | None, Doc]], fetch) -> int:  # noqa: ANN001
        """Recompute the share of every person the changed documents concern; returns how many."""
        owners = {person for _, person, _ in changed if person is not None}
        aliases = {person: doc["kept"].person for key, person, doc in changed
                   if person is not None and doc.get("kind") == "alias" and doc.get("kept")
                   and self.alias.get(person) != doc["kept"].person}
        if aliases:
            owners |= self._merge(aliases)
        roots = {resolve(self.alias, p) for p in owners}
        for gone in owners - roots:  # merged into someone else: no share of their own any more
            if resolve(self.alias, gone) != gone:
                self._set(gone, None)
        # A few people at a time: their documents read (one query), decoded and their shares recomputed, then the
        # loop's turn. A round where thousands changed read and decoded them all at once, holding the consumer's
        # batch for a second or more.
        loop = asyncio.get_running_loop()
        yielded = loop.time()
        ordered = sorted(roots)
        for start in range(0, len(ordered), PEOPLE_PER_READ):
            part = ordered[start:start + PEOPLE_PER_READ]
            docs: State = await fetch(set().union(*(self.people_of(r) for r in part)))
            grouped: dict[str, State] = {}
            for key, doc in docs.items():
                kind, _, rest = key.partition(":")
                who = rest if kind in ("person", "alias") else doc.get("person")
                if who is not None:
                    grouped.setdefault(resolve(self.alias, who), {})[key] = doc
            for root in part:
                self._set(root, self.share_of(grouped.get(root, {})))
                if loop.time() - yielded > YIELD_EVERY_S:
                    await asyncio.sleep(0)  # let the consumer's batch, /health and /metrics run meanwhile
                    yielded = loop.time()
        return len(roots)

    # -- what the collector yields ------------------------------------------------------------------------
    def samples(self, gauge: Gauge) -> list[tuple[Labels, int]]:
        found = sorted((labels, entry[0]) for (name, labels), entry in self.totals.items() if name == gauge.name)
        return found or ([((), 0)] if not gauge.labels else [])

    def delay_samples(self) -> list[tuple[str, list[tuple[int, int]]]]:
        by_stage: dict[str, list[tuple[int, int]]] = {stage: [] for stage in DELAY_STAGES}
        for (stage, value), count in sorted(self.delays.items()):
            by_stage.setdefault(stage, []).append((value, count))
        return sorted(by_stage.items())


def _delay_stages() -> tuple[str, ...]:
    from services.reporting.domain.delays import Delays

    return tuple(Delays.model_fields)


DELAY_STAGES = _delay_stages()


class ReportCollector(Collector):
    """Yields the metrics of the live figures (`figures`, refreshed by the metrics task), or of a whole report
    (`report`) when one is given instead."""

    def __init__(self, known_ids: frozenset[str]) -> None:
        self.known = known_ids
        self.report: Report | None = None
        self.figures: LiveFigures | None = None

    def bounded(self, value: str) -> str:
        return value if value in self.known else OTHER

    _bounded = bounded

    def collect(self) -> Iterator[Any]:
        report, figures = self.report, self.figures
        if report is None and figures is None:
            return
        for gauge in GAUGES:
            family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
            samples = summed(gauge.samples(report, self._bounded)) if report is not None else figures.samples(gauge)
            for labels, value in samples:
                family.add_metric(list(labels), value)
            yield family
        hist = HistogramMetricFamily("ariane_reporting_referral_delay_days",
                                     "Referral delays in days, by stage", labels=["stage"])
        if report is not None:
            stages = [(stage, [(v, 1) for v in stats.samples]) for stage, stats in report.delays_days]
        else:
            stages = figures.delay_samples()
        for stage, counted in stages:
            buckets = [(str(b), sum(n for v, n in counted if v <= b)) for b in DELAY_BUCKETS]
            buckets.append(("+Inf", sum(n for _, n in counted)))
            hist.add_metric([stage], buckets, sum_value=sum(v * n for v, n in counted))
        yield hist
