"""The accepted partner events, by (source, id): what tells a duplicate from a conflict, and the id each was
published under. The rows of an erased person keep keyed digests instead of the partner's ids (`forget`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select as core_select
from sqlalchemy import update
from sqlmodel import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.domain import erasure
from services.intake.store.tables import EventRow, ReviewRow


@dataclass(frozen=True)
class Seen:
    """An event this source already sent: is it the same content, and what was answered for it."""

    same_content: bool
    person_id: str | None
    published_id: str


async def seen_before(session: AsyncSession, secret: bytes, source: str, event_id: str,
                      content_sha256: str) -> Seen | None:
    """The earlier acceptance of (source, event_id), also when its person was erased since (its row then
    holds digests keyed by `secret`), or None."""
    row = await session.get(EventRow, (source, event_id))
    if row is not None:
        return Seen(row.content_sha256 == content_sha256, row.person_id, row.published_id)
    row = await session.get(EventRow, (source, erasure.forgotten_event_id(secret, source, event_id)))
    if row is not None:
        return Seen(row.content_sha256 == erasure.forgotten_content(secret, content_sha256), row.person_id,
                    row.published_id)
    return None


async def id_is_published(session: AsyncSession, secret: bytes, published_id: str) -> bool:
    """Some accepted event (of any source) is already published under this id, its person erased or not."""
    forms = (published_id, erasure.forgotten_published_id(secret, published_id))
    return (await session.exec(select(EventRow.source).where(EventRow.published_id.in_(forms))
                               .limit(1))).first() is not None


async def record(session: AsyncSession, *, source: str, event_id: str, content_sha256: str, published_id: str,
                 person_id: str | None) -> None:
    session.add(EventRow(source=source, event_id=event_id, content_sha256=content_sha256,
                         published_id=published_id, person_id=person_id))
    await session.flush()


async def forget(session: AsyncSession, secret: bytes, person_ids: list[str]) -> None:
    """An erasure: the events accepted about these ids, and the cause of their reviews, keep keyed digests of
    the partners' ids (which may hold a file number) and of the content; the rows stay, so a resend of the
    same event is still a duplicate and publishes nothing."""
    rows = (await session.execute(core_select(EventRow.source, EventRow.event_id, EventRow.published_id,
                                              EventRow.content_sha256)
                                  .where(EventRow.person_id.in_(person_ids)))).all()
    for source, event_id, published_id, content in rows:
        await session.execute(update(EventRow).where(EventRow.source == source, EventRow.event_id == event_id).values(
            event_id=erasure.forgotten_event_id(secret, source, event_id),
            published_id=erasure.forgotten_published_id(secret, published_id),
            content_sha256=erasure.forgotten_content(secret, content)))
    reviews = (await session.execute(core_select(ReviewRow.person_a, ReviewRow.person_b, ReviewRow.cause_event_id)
                                     .where(or_(ReviewRow.person_a.in_(person_ids),
                                                ReviewRow.person_b.in_(person_ids))))).all()
    for person_a, person_b, cause in reviews:
        await session.execute(update(ReviewRow).where(ReviewRow.person_a == person_a, ReviewRow.person_b == person_b)
                              .values(cause_event_id=erasure.forgotten_published_id(secret, cause)))
    await session.flush()
