"""Outbound webhooks, the shell: a loop that POSTs due notices, records every attempt, and schedules the next.

Rows of `referral_webhook_delivery` are written by the handler in the transaction of the decision; this loop
only moves them on. One pass: claim the due rows (their `next_attempt_at` pushed past the POST timeout, a
lease, so a second worker or a crash mid-POST does not lose or double them), POST them concurrently, then for
each write the attempt and what `webhooks.after_attempt` says: delivered, retry at a later time, or failed.

Effectively once: a notice is re-sent only when no 2xx was recorded for it, so a partner may see the same
event twice only if the service died between the partner's answer and its recording; X-Ariane-Event-Id lets
the partner discard that duplicate. A failed notice is never dropped silently: it stays in the table with its
attempts, `ariane_referral_webhook_deliveries_total{outcome="failed"}` counts it, and an error is logged.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select

from services.referral.metrics import WebhookMetrics
from services.referral.store import WebhookAttemptRow, WebhookDeliveryRow
from services.referral.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    RetryPolicy,
    Verdict,
    after_attempt,
    signature,
)

log = structlog.get_logger("ariane.referral.webhooks")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Claimed:
    event_id: str
    structure_id: str
    url: str
    body: bytes
    attempt: int  # the number of this attempt, from 1


@dataclass(frozen=True)
class Answer:
    started_at: datetime
    duration_s: float
    status: int | None
    error: str | None


class WebhookDelivery:
    def __init__(self, *, session_factory: async_sessionmaker, secrets: dict[str, str], policy: RetryPolicy,
                 metrics: WebhookMetrics, timeout_s: float = 10.0, poll_s: float = 1.0, batch: int = 20,
                 client: httpx.AsyncClient | None = None, now: Callable[[], datetime] = utc_now,
                 jitter: Callable[[], float] = random.random) -> None:
        self.session_factory = session_factory
        self.secrets = secrets
        self.policy = policy
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.batch = batch
        self.client = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self.now = now
        self.jitter = jitter
        self._stop = asyncio.Event()
        self.task: asyncio.Task | None = None

    # --- lifetime -------------------------------------------------------------------------------------------

    def start(self, stop: asyncio.Event) -> asyncio.Task:
        self.task = asyncio.create_task(self.run(stop), name="referral-webhooks")
        return self.task

    async def close(self, timeout: float | None = None) -> None:
        """Stop the loop (an attempt in flight ends within its timeout, or is cancelled: its lease expires and
        it is tried again later), then close the HTTP client."""
        self._stop.set()
        if self.task is not None:
            try:
                await asyncio.wait_for(self.task, timeout if timeout is not None else self.timeout_s + 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        await self.client.aclose()

    async def run(self, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(self._either(stop))
        try:
            while not stopping.done():
                try:
                    sent = await self.run_once()
                except Exception:  # noqa: BLE001 - a database hiccup must not end deliveries for good
                    log.exception("webhook_pass_failed")
                    sent = 0
                if sent == 0:
                    await asyncio.wait([stopping], timeout=self.poll_s)
        finally:
            stopping.cancel()

    async def _either(self, stop: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._stop.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    # --- one pass -------------------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Send every notice due now (at most `batch`); returns how many were tried."""
        claimed = await self._claim()
        if claimed:
            await asyncio.gather(*(self._deliver(c) for c in claimed))
        return len(claimed)

    async def _claim(self) -> list[Claimed]:
        now = self.now()
        lease = now + timedelta(seconds=self.timeout_s + 30)
        async with self.session_factory() as session, session.begin():
            query = (select(WebhookDeliveryRow).where(WebhookDeliveryRow.status == PENDING,
                                                      WebhookDeliveryRow.next_attempt_at <= now)
                     .order_by(WebhookDeliveryRow.next_attempt_at).limit(self.batch)
                     .with_for_update(skip_locked=True))
            rows = list((await session.exec(query)).all())
            for row in rows:
                row.next_attempt_at = lease
                session.add(row)
            return [Claimed(r.event_id, r.structure_id, r.url, r.body, r.attempts + 1) for r in rows]

    async def _post(self, notice: Claimed) -> Answer:
        started_at = self.now()
        secret = self.secrets.get(notice.structure_id)
        if not secret:  # its secret was removed since the notice was queued: nothing to sign with, never unsigned
            return Answer(started_at, 0.0, None, "no webhook secret configured for this structure")
        headers = {"content-type": "application/cloudevents+json; charset=utf-8", EVENT_ID_HEADER: notice.event_id,
                   SIGNATURE_HEADER: signature(secret, int(time.time()), notice.body)}
        began = time.perf_counter()
        try:
            response = await self.client.post(notice.url, content=notice.body, headers=headers)
            status, error = response.status_code, None
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"[:500]
        return Answer(started_at, time.perf_counter() - began, status, error)

    async def _deliver(self, notice: Claimed) -> None:
        answer = await self._post(notice)
        step = after_attempt(answer.status, notice.attempt, self.policy, self.jitter())
        self.metrics.attempt_seconds.labels(notice.structure_id).observe(answer.duration_s)
        self.metrics.attempts.labels(notice.structure_id, step.verdict.value).inc()
        finished = step.verdict is not Verdict.RETRY
        now = self.now()
        async with self.session_factory() as session, session.begin():
            session.add(WebhookAttemptRow(
                event_id=notice.event_id, attempt=notice.attempt, started_at=answer.started_at,
                duration_ms=round(answer.duration_s * 1000, 3), status_code=answer.status, error=answer.error,
                verdict=step.verdict.value))
            await session.exec(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.event_id == notice.event_id)
                .values(attempts=notice.attempt, last_status_code=answer.status, last_error=answer.error,
                        status={Verdict.DELIVERED: DELIVERED, Verdict.FAILED: FAILED}.get(step.verdict, PENDING),
                        next_attempt_at=None if finished else now + timedelta(seconds=step.delay_s or 0),
                        finished_at=now if finished else None))
        fields = {"event_id": notice.event_id, "structure": notice.structure_id, "attempt": notice.attempt,
                  "status_code": answer.status, "error": answer.error}
        if step.verdict is Verdict.DELIVERED:
            self.metrics.deliveries.labels(notice.structure_id, DELIVERED).inc()
            log.info("webhook_delivered", **fields)
        elif step.verdict is Verdict.FAILED:
            self.metrics.deliveries.labels(notice.structure_id, FAILED).inc()
            log.error("webhook_failed", **fields, max_attempts=self.policy.max_attempts)
        else:
            log.warning("webhook_retry", **fields, retry_in_s=round(step.delay_s or 0, 3))
