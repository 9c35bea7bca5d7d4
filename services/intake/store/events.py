"""The accepted partner events, by (source, id): what tells a duplicate from a conflict, and the id each was
published under."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.store.tables import EventRow


async def accepted(session: AsyncSession, source: str, event_id: str) -> EventRow | None:
    return await session.get(EventRow, (source, event_id))


async def id_is_published(session: AsyncSession, published_id: str) -> bool:
    """Some accepted event (of any source) is already published under this id."""
    return (await session.exec(select(EventRow.source).where(EventRow.published_id == published_id)
                               .limit(1))).first() is not None


async def record(session: AsyncSession, *, source: str, event_id: str, content_sha256: str, published_id: str,
                 person_id: str | None) -> None:
    session.add(EventRow(source=source, event_id=event_id, content_sha256=content_sha256,
                         published_id=published_id, person_id=person_id))
    await session.flush()
