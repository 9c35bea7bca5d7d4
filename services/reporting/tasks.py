"""Reporting's background loop: bring the metrics' figures up to date with the documents written since."""

from __future__ import annotations

import asyncio
from contextlib import suppress

from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.documents import State
from services.reporting.metrics import LiveFigures, ReportCollector
from services.reporting.store.documents import changed_since, documents_of
from services.runtime.tasks import BackgroundTask


async def refresh_figures(engine: AsyncEngine, figures: LiveFigures) -> int:
    """One round: read the documents written since the last round (all of them the first time) and recompute
    the share of the people they concern; returns how many people were recomputed."""
    latest, changed = await changed_since(engine, figures.seq)
    if not changed:
        return 0
    if figures.seq < 0:  # the first round read every document already
        everything: State = {key: doc for key, _, doc in changed}

        async def fetch(ids: set[str]) -> State:  # noqa: ARG001 - every document is at hand
            return everything
    else:
        async def fetch(ids: set[str]) -> State:
            return await documents_of(engine, ids)
    people = await figures.update(changed, fetch)
    figures.seq = latest
    return people


def refresh_metrics(engine: AsyncEngine, collector: ReportCollector, territory: str, every_s: float
                    ) -> BackgroundTask:
    """Every `every_s` seconds, update the figures behind /metrics with what was written since; a failing round
    crashes the loop, which the host restarts with back-off (starting over from a first full read) and shows
    on /health."""

    async def run(stop: asyncio.Event) -> None:
        figures = LiveFigures(collector.bounded, territory)
        first = True
        while not stop.is_set():
            await refresh_figures(engine, figures)
            if first:  # published once complete, so a scrape never sees a half-read store
                collector.figures, first = figures, False
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    return BackgroundTask("report_metrics", run)
