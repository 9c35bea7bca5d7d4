"""The people and their referrals: a person's state, and the queries the day ticks and the read API run (the
handlers read and write people through store/batch.py, a batch at a time)."""

from __future__ import annotations

from datetime import date

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services.referral.domain.lifecycle import PersonState
from services.referral.store.rows import PersonRow, ReferralRow


async def load_person(session: AsyncSession, person_id: str) -> PersonState:
    """One person's state as stored, locked until commit (PostgreSQL)."""
    row = await session.get(PersonRow, person_id, with_for_update=True)
    if row is None:
        return PersonState(person_id=person_id)
    return PersonState.model_validate_json(row.state)


async def current_id(session: AsyncSession, person_id: str) -> str | None:
    """The id a person is known by now, following merges, without locking (the read API); None if unknown."""
    seen: set[str] = set()
    while person_id not in seen:
        seen.add(person_id)
        row = await session.get(PersonRow, person_id)
        if row is None:
            return None
        merged_into = PersonState.model_validate_json(row.state).merged_into
        if merged_into is None:
            return person_id
        person_id = merged_into
    return person_id


def due_query(day: date) -> SelectOfScalar[str]:
    """The referral rows a tick of `day` may act on, read through the `next_check_on` index alone: no DISTINCT or
    ORDER BY here, which SQLite serves by walking the primary key, that is every referral ever issued."""
    return select(ReferralRow.person_id).where(ReferralRow.next_check_on <= day)


async def people_due(session: AsyncSession, day: date) -> list[str]:
    """People with a referral a tick of `day` may act on (a reminder or an expiry), in person order (a few per
    day: sorted here rather than by the database)."""
    return sorted(set((await session.exec(due_query(day))).all()))


async def referrals(session: AsyncSession, *, to: str | None = None, status: str | None = None,
                    person_id: str | None = None, limit: int = 500, offset: int = 0) -> list[ReferralRow]:
    query = select(ReferralRow)
    if person_id is not None:
        query = query.where(ReferralRow.person_id == person_id)
    if to is not None:
        query = query.where(ReferralRow.to_structure == to)
    if status is not None:
        query = query.where(ReferralRow.status == status)
    query = query.order_by(ReferralRow.issued_on, ReferralRow.referral_id).offset(offset).limit(limit)
    return list((await session.exec(query)).all())
