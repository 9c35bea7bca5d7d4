"""The webhook queue: notices are queued in the transaction of the decision that emitted the event, then claimed
by the delivery loop under a lease and moved on, attempt by attempt, until delivered or failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referral.store.rows import WebhookAttemptRow, WebhookDeliveryRow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class Claimed:
    """A notice taken by the delivery loop for one attempt."""

    event_id: str
    structure_id: str
    url: str
    body: bytes
    attempt: int  # the number of this attempt, from 1


@dataclass(frozen=True)
class Attempt:
    """What one POST of a notice gave, and what comes next: `status` of the notice and when it is due again."""

    started_at: datetime
    duration_s: float
    status_code: int | None
    error: str | None
    verdict: str  # delivered | retry | failed
    status: str  # the notice's status afterwards: pending | delivered | failed
    next_attempt_at: datetime | None
    finished_at: datetime | None


def add_webhook_delivery(session: AsyncSession, *, event_id: str, event_type: str, structure_id: str, url: str,
                         body: bytes, now: datetime) -> None:
    """Queue a notice in the caller's transaction: it exists if and only if the decision that caused it does."""
    session.add(WebhookDeliveryRow(event_id=event_id, event_type=event_type, structure_id=structure_id, url=url,
                                   body=body, next_attempt_at=now, created_at=now))


async def claim_due(session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
    """The pending notices due at `now` (at most `limit`), their next attempt pushed to `lease_until`: a second
    worker skips them, and a crash mid-POST only delays them until the lease ends."""
    query = (select(WebhookDeliveryRow).where(WebhookDeliveryRow.status == PENDING,
                                              WebhookDeliveryRow.next_attempt_at <= now)
             .order_by(WebhookDeliveryRow.next_attempt_at).limit(limit)
             .with_for_update(skip_locked=True))
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.next_attempt_at = lease_until
        session.add(row)
    return [Claimed(r.event_id, r.structure_id, r.url, r.body, r.attempts + 1) for r in rows]


async def record_attempt(session: AsyncSession, notice: Claimed, attempt: Attempt) -> None:
    """Every attempt is kept, whatever came of it; the notice takes the outcome of its latest."""
    session.add(WebhookAttemptRow(
        event_id=notice.event_id, attempt=notice.attempt, started_at=attempt.started_at,
        duration_ms=round(attempt.duration_s * 1000, 3), status_code=attempt.status_code, error=attempt.error,
        verdict=attempt.verdict))
    await session.exec(
        update(WebhookDeliveryRow)
        .where(WebhookDeliveryRow.event_id == notice.event_id)
        .values(attempts=notice.attempt, last_status_code=attempt.status_code, last_error=attempt.error,
                status=attempt.status, next_attempt_at=attempt.next_attempt_at, finished_at=attempt.finished_at))
