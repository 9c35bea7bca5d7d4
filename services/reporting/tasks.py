"""Reporting's background loop: recompute the report behind the metrics when new events were applied."""

from __future__ import annotations

import asyncio
from contextlib import suppress

from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.calendar import Period
from services.reporting.domain.report import compute
from services.reporting.metrics import ReportCollector
from services.reporting.store.documents import events_applied, load_state
from services.runtime.tasks import BackgroundTask


def refresh_metrics(engine: AsyncEngine, collector: ReportCollector, territory: str, every_s: float
                    ) -> BackgroundTask:
    """Every `every_s` seconds, recompute the whole-time report if the inbox grew; a failing round crashes the
    loop, which the host restarts with back-off and shows on /health."""

    async def run(stop: asyncio.Event) -> None:
        seen = -1
        while not stop.is_set():
            applied = await events_applied(engine)
            if applied != seen:  # recompute only when new events were applied
                collector.report = compute(await load_state(engine), Period(), territory)
                seen = applied
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    return BackgroundTask("report_metrics", run)
