"""Reporting's background loop: bring the metrics' figures up to date with the documents written since."""

from __future__ import annotations

import asyncio
from contextlib import suppress

from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.documents import State
from services.reporting.metrics import LiveFigures, ReportCollector
from services.reporting.store.documents import changed_since, documents_of
from services.runtime.tasks import BackgroundTask

PAUSE_PER_ROUND = 4.0


async def refresh_figures(engine: AsyncEngine, figures: LiveFigures) -> int:
    """One round: read the documents written since the last round (all of them the first time) and recompute
    the share of the people they concern; returns how many people were recomputed."""
    # After the first round, the people's documents are read again whole (documents_of): of the changed ones,
    # only the aliases need decoding here (half the decoding of a round where everyone changed).
    latest, changed = await changed_since(engine, figures.seq, decode_all=figures.seq < 0)
    if not changed:
        return 0
    if figures.seq < 0:  # the first round read every document already
        by_owner: dict[str, State] = {}
        for key, person, doc in changed:
            if person is not None:
                by_owner.setdefault(person, {})[key] = doc

        async def fetch(ids: set[str]) -> State:
            return {key: doc for person in ids for key, doc in by_owner.get(person, {}).items()}
    else:
        async def fetch(ids: set[str]) -> State:
            return await documents_of(engine, ids)
    people = await figures.update(changed, fetch)
    figures.seq = latest
    return people


def refresh_metrics(engine: AsyncEngine, collector: ReportCollector, territory: str, every_s: float
                    ) -> BackgroundTask:
    """Every `every_s` seconds (longer after a long round), update the figures behind /metrics with what was
    written since; a failing round
    crashes the loop, which the host restarts with back-off (starting over from a first full read) and shows
    on /health."""

    async def run(stop: asyncio.Event) -> None:
        figures = LiveFigures(collector.bounded, territory)
        first = True
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = loop.time()
            await refresh_figures(engine, figures)
            if first:  # published once complete, so a scrape never sees a half-read store
                collector.figures, first = figures, False
            # Under a heavy stream a round recomputes hundreds of people: the pause after it is at least
            # PAUSE_PER_ROUND times its length, so the figures take at most a fifth of the process's time from
            # the consumer (whose commits wait on the same loop), and a longer pause gathers more of the same
            # people's changes into one recomputation.
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(every_s, PAUSE_PER_ROUND * (loop.time() - started)))

    return BackgroundTask("report_metrics", run)
