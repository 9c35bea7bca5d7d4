"""Intake's background loops, as tasks the runtime supervises (restarted on a crash, shown on /health)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.intake.metrics import IntakeMetrics
from services.intake.store.identities import vault_size
from services.runtime.tasks import BackgroundTask

log = structlog.get_logger("ariane.intake")


def vault_size_gauge(session_factory: async_sessionmaker, metrics: IntakeMetrics,
                     every_s: float = 5.0) -> BackgroundTask:
    """Keeps `ariane_intake_vault_people` current: counted in the store every few seconds."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with session_factory() as session:
                    metrics.vault_size.set(await vault_size(session))
            except Exception as exc:  # noqa: BLE001 - a gauge is not worth a restart; the next round retries
                log.warning("vault_size_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)

    return BackgroundTask("vault_size", run)
