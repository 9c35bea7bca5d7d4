"""What a coordinator scrapes from /metrics, kept up to date batch by batch, equals the whole report's figures.

The events go through the runtime's real processor into a real store (SQLite, or PostgreSQL when
ARIANE_DATABASE_URL says so), batch by batch, with identity merges
arriving in the middle of the story (a merge, then facts about the merged person; a chain of two merges; an
earlier merge told late, which moves a person from one kept person to another).
After every batch the metrics task's round reads only what was written since, and the metrics it yields are
those of the report computed from the whole store.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from prometheus_client.registry import CollectorRegistry

from contracts.people import PersonIdentitiesMerged, PersonIdentitiesMergedData
from local.sample import sample_events
from services.reporting.app import ReportingDeps
from services.reporting.domain.calendar import Period
from services.reporting.domain.report import compute
from services.reporting import metrics
from services.reporting.handlers import HANDLERS
from services.reporting.metrics import LiveFigures, ReportCollector
from services.reporting.settings import ReportingSettings
from services.reporting.store import VERSIONS_DIR, load_state, metadata, tables
from services.reporting.tasks import refresh_figures
from services.runtime.db import make_engine, make_session_factory
from services.runtime.metrics import RuntimeMetrics
from services.runtime.migrate import upgrade_to_head
from services.runtime.processor import EventProcessor
from services.runtime.records import Record
from services.runtime.routing import route
from services.runtime.settings import RuntimeSettings

DEPS = ReportingDeps.of(ReportingSettings())
on_event = route(HANDLERS, DEPS)


def _merge(n: int, kept: str, merged: str) -> PersonIdentitiesMerged:
    return PersonIdentitiesMerged(id=f"merge-{n}", source="ariane/intake", subject=kept,
                                  time=datetime(2025, 3, 1, 9, n, tzinfo=timezone.utc),
                                  data=PersonIdentitiesMergedData(kept_person_id=kept, merged_person_id=merged,
                                                                  rule="same_nir"))


def _scrape(collector: ReportCollector) -> list[tuple[str, list]]:
    registry = CollectorRegistry()
    registry.register(collector)
    return [(family.name, sorted((s.name, tuple(sorted(s.labels.items())), s.value) for s in family.samples))
            for family in registry.collect()]


@pytest.mark.parametrize("people_per_read", [metrics.PEOPLE_PER_READ, 2])
async def test_metrics_follow_each_batch_and_equal_the_whole_report(database_url: str, people_per_read: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # A round reads its people's documents a few people at a time; read two by two, a merged person and the
    # person kept fall in different reads, and the figures must not notice.
    monkeypatch.setattr(metrics, "PEOPLE_PER_READ", people_per_read)
    engine = make_engine(database_url)
    await upgrade_to_head(engine, "reporting", metadata, VERSIONS_DIR)
    processor = EventProcessor("reporting", make_session_factory(engine), tables, on_event,
                               RuntimeMetrics.create("reporting"), RuntimeSettings())
    pairs = sample_events(people=30, seed=11)
    people = sorted({e.subject for _, e in pairs if e.subject.startswith("p")})
    third = len(pairs) // 3
    events = [e for _, e in pairs[:third]]
    events += [_merge(1, people[0], people[1]), _merge(2, people[3], people[2])]
    events += [e for _, e in pairs[third:2 * third]]
    events += [_merge(3, people[4], people[3])]  # a chain: people[2] -> people[3] -> people[4]
    # An earlier merge of people[1], told late: people[1] belongs to people[5], and no longer to people[0].
    events += [_merge(0, people[5], people[1])]
    events += [e for _, e in pairs[2 * third:]]
    records = [Record("ariane.intake.v1", 0, n, e.subject.encode(), e.to_json_bytes()) for n, e in enumerate(events)]

    live = ReportCollector(DEPS.metrics.known)
    whole = ReportCollector(DEPS.metrics.known)
    figures = LiveFigures(live.bounded, DEPS.territory.id)
    live.figures = figures
    recomputed = []
    try:
        for start in range(0, len(records), 40):
            await processor.process_batch(records[start:start + 40])
            recomputed.append(await refresh_figures(engine, figures))
            whole.report = compute(await load_state(engine), Period(), DEPS.territory.id)
            assert _scrape(live) == _scrape(whole), f"after the batch at {start}"
        assert await refresh_figures(engine, figures) == 0  # nothing new written: nothing recomputed
        assert max(recomputed) < len(people)  # each round recomputed the people of its batch, not everyone
    finally:
        await engine.dispose()
