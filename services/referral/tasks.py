"""Outbound webhooks, the delivery loop: POSTs due notices, records every attempt, and schedules the next.

Notices are queued by the handler in the transaction of the decision (store/webhook_queue.py); this loop only
moves them on. One pass: claim the due notices under a lease (a second worker or a crash mid-POST does not
lose or double them), POST them concurrently, then record each attempt with what the answer means
(domain/delivery_verdicts.py): delivered, retry after the back-off, or failed.

Effectively once: a notice is re-sent only when no 2xx was recorded for it, so a partner may see the same
event twice only if the service died between the partner's answer and its recording; X-Ariane-Event-Id lets
the partner discard that duplicate. A failed notice is never dropped silently: it stays in the table with its
attempts, `ariane_referral_webhook_deliveries_total{outcome="failed"}` counts it, and an error is logged.

The loop runs as a supervised background task: a pass that crashes (the database away) is restarted by the
runtime with its back-off and shows on /health; at shutdown the pass in flight ends and records its attempts
before the HTTP client is closed and the engine disposed of.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.referral import store
from services.referral.domain.delivery_verdicts import Verdict, verdict
from services.referral.domain.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signature
from services.referral.metrics import WebhookMetrics
from services.referral.settings import RetryPolicy
from services.runtime.tasks import BackgroundTask

log = structlog.get_logger("ariane.referral.webhooks")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# --- when to try again ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    verdict: Verdict
    delay_s: float | None = None  # for RETRY: how long to wait before the next attempt


def backoff_delay(attempts_made: int, policy: RetryPolicy, jitter: float = 1.0) -> float:
    """Seconds to wait after the `attempts_made`-th failed attempt: the runtime's back-off (base * 2^(n-1),
    capped), scaled into [half, all] of that by `jitter` in [0, 1] so partners coming back up are not hit by
    every sender at once."""
    if attempts_made < 1:
        raise ValueError("attempts_made starts at 1")
    return policy.backoff.delay(attempts_made) * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))


def max_total_delay(policy: RetryPolicy) -> float:
    """The longest a notice can wait between its first and its last attempt."""
    return sum(backoff_delay(n, policy) for n in range(1, policy.max_attempts))


def after_attempt(status: int | None, attempts_made: int, policy: RetryPolicy, jitter: float = 1.0) -> Step:
    """What to do once attempt number `attempts_made` answered `status` (None: no answer)."""
    outcome = verdict(status, attempts_made, policy.max_attempts)
    if outcome is Verdict.RETRY:
        return Step(outcome, backoff_delay(attempts_made, policy, jitter))
    return Step(outcome)


# --- the loop -------------------------------------------------------------------------------------------------


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

    def task(self) -> BackgroundTask:
        return BackgroundTask("webhook_delivery", self.run, close=self.close)

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop`; a pass in flight ends within its POST timeout and records its attempts."""
        while not stop.is_set():
            if await self.run_once() == 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_s)

    async def close(self) -> None:
        await self.client.aclose()

    async def run_once(self) -> int:
        """Send every notice due now (at most `batch`); returns how many were tried."""
        now = self.now()
        async with self.session_factory() as session, session.begin():
            claimed = await store.claim_due(session, now=now, lease_until=now + timedelta(seconds=self.timeout_s + 30),
                                            limit=self.batch)
        if claimed:
            await asyncio.gather(*(self._deliver(c) for c in claimed))
        return len(claimed)

    async def _post(self, notice: store.Claimed) -> Answer:
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

    async def _deliver(self, notice: store.Claimed) -> None:
        answer = await self._post(notice)
        step = after_attempt(answer.status, notice.attempt, self.policy, self.jitter())
        self.metrics.attempt_seconds.labels(notice.structure_id).observe(answer.duration_s)
        self.metrics.attempts.labels(notice.structure_id, step.verdict.value).inc()
        finished = step.verdict is not Verdict.RETRY
        now = self.now()
        status = {Verdict.DELIVERED: store.DELIVERED, Verdict.FAILED: store.FAILED}.get(step.verdict, store.PENDING)
        attempt = store.Attempt(
            started_at=answer.started_at, duration_s=answer.duration_s, status_code=answer.status,
            error=answer.error, verdict=step.verdict.value, status=status,
            next_attempt_at=None if finished else now + timedelta(seconds=step.delay_s or 0),
            finished_at=now if finished else None)
        async with self.session_factory() as session, session.begin():
            await store.record_attempt(session, notice, attempt)
        fields = {"event_id": notice.event_id, "structure": notice.structure_id, "attempt": notice.attempt,
                  "status_code": answer.status, "error": answer.error}
        if step.verdict is Verdict.DELIVERED:
            self.metrics.deliveries.labels(notice.structure_id, store.DELIVERED).inc()
            log.info("webhook_delivered", **fields)
        elif step.verdict is Verdict.FAILED:
            self.metrics.deliveries.labels(notice.structure_id, store.FAILED).inc()
            log.error("webhook_failed", **fields, max_attempts=self.policy.max_attempts)
        else:
            log.warning("webhook_retry", **fields, retry_in_s=round(step.delay_s or 0, 3))


def webhook_delivery(*, session_factory: async_sessionmaker, secrets: dict[str, str], policy: RetryPolicy,
                     metrics: WebhookMetrics, timeout_s: float, poll_s: float, batch: int) -> BackgroundTask:
    """The delivery loop as the runtime supervises it. Always running, even with no URL configured now: notices
    queued before a configuration change still have to be delivered or failed, never left pending."""
    return WebhookDelivery(session_factory=session_factory, secrets=secrets, policy=policy, metrics=metrics,
                           timeout_s=timeout_s, poll_s=poll_s, batch=batch).task()
