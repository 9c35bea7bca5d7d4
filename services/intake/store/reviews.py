"""Identity reviews in the store: the rows `IdentityResolver` opens, listed and decided.

A decision is one conditional update (pending -> decided): of two decisions racing on one review, on either
database, exactly one changes the row; the other finds it decided and is answered so.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import utc
from contracts.identity import MatchedField
from services.intake.domain import reviews
from services.intake.store.tables import ReviewRow


def as_opening(row: ReviewRow) -> reviews.Opening:
    """The review a row holds. Rows flagged before reviews had ids get theirs from the migration; a row whose
    newer id is unknown takes the pair's second id."""
    newer = row.newer_person_id or row.person_b
    older = row.person_a if newer == row.person_b else row.person_b
    return reviews.Opening(review_id=row.review_id or reviews.review_id(row.person_a, row.person_b),
                           person_id=newer, other_person_id=older,
                           matched=tuple(MatchedField(m) for m in json.loads(row.matched or "[]")),
                           missing=tuple(json.loads(row.missing or "[]")))


async def by_id(session: AsyncSession, review_id: str) -> ReviewRow | None:
    return (await session.exec(select(ReviewRow).where(ReviewRow.review_id == review_id))).first()


async def listing(session: AsyncSession, statuses: list[str], limit: int) -> list[ReviewRow]:
    """Reviews of the given statuses, oldest first (the one waiting longest is decided first)."""
    query = select(ReviewRow).where(ReviewRow.review_id.is_not(None))
    if statuses:
        query = query.where(ReviewRow.status.in_(statuses))
    query = query.order_by(ReviewRow.opened_at.is_(None).desc(), ReviewRow.opened_at, ReviewRow.review_id)
    return list((await session.exec(query.limit(limit))).all())


async def mark_decided(session: AsyncSession, review_id: str, status: str, decided_by: str, at: datetime,
                       note: str | None) -> bool:
    """Decide a pending review; False if it was no longer pending (another decision came first)."""
    result = await session.execute(update(ReviewRow).where(
        ReviewRow.review_id == review_id, ReviewRow.status == reviews.PENDING).values(
        status=status, decided_by=decided_by, decided_at=utc(at), note=note))
    return result.rowcount == 1


async def pending_count(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(ReviewRow).where(
        ReviewRow.status == reviews.PENDING))).one()
