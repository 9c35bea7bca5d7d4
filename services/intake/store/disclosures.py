"""Disclosures in the store: one row per identity shown, written in the transaction that emits its
identity.disclosed, so the audit list and the topic always agree."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import utc
from contracts.identity import IdentityDisclosed
from services.intake.store.tables import DisclosureRow


async def record(session: AsyncSession, event: IdentityDisclosed, role: str) -> None:
    d = event.data
    session.add(DisclosureRow(disclosure_id=d.disclosure_id, person_id=d.person_id, disclosed_to=d.disclosed_to,
                              key_id=d.key_id, role=role, basis=d.basis.value, reason=d.reason,
                              disclosed_at=utc(d.disclosed_at)))  # UTC: SQLite keeps no offset
    await session.flush()


async def listing(session: AsyncSession, *, person_ids: list[str] | None, structure: str | None,
                  since: datetime | None, until: datetime | None, limit: int) -> list[DisclosureRow]:
    """Disclosures matching every filter given, oldest first; `until` is exclusive."""
    query = select(DisclosureRow)
    if person_ids is not None:
        query = query.where(DisclosureRow.person_id.in_(person_ids))
    if structure is not None:
        query = query.where(DisclosureRow.disclosed_to == structure)
    if since is not None:
        query = query.where(DisclosureRow.disclosed_at >= utc(since))
    if until is not None:
        query = query.where(DisclosureRow.disclosed_at < utc(until))
    query = query.order_by(DisclosureRow.disclosed_at, DisclosureRow.disclosure_id).limit(limit)
    return list((await session.exec(query)).all())
