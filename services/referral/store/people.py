"""The people and their referrals: load a person's state, store it with its referral rows, and the queries the
day ticks and the read API run."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from contracts.territory import ReferralSla
from services.referral.domain.lifecycle import PersonState, next_checks
from services.referral.store.rows import PersonRow, ReferralRow


async def load_person(session: AsyncSession, person_id: str) -> PersonState:
    # Locked until commit: with several instances on PostgreSQL, a tick and a fact about one person may be
    # decided at once; the second waits for the first and decides on its result.
    row = await session.get(PersonRow, person_id, with_for_update=True)
    if row is None:
        return PersonState(person_id=person_id)
    return PersonState.model_validate_json(row.state)


async def load_current(session: AsyncSession, person_id: str) -> PersonState:
    """The state of the person under the id they are known by now: an id merged into another one leads there.
    The merged id's row is read (and locked) first: a merge in flight is waited for, then followed."""
    state = await load_person(session, person_id)
    seen = {person_id}
    while state.merged_into is not None and state.merged_into not in seen:
        seen.add(state.merged_into)
        state = await load_person(session, state.merged_into)
    return state


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


async def save_person(session: AsyncSession, state: PersonState, sla: ReferralSla) -> None:
    row = await session.get(PersonRow, state.person_id)
    if row is None:
        session.add(PersonRow(person_id=state.person_id, state=state.model_dump_json()))
    else:
        row.state = state.model_dump_json()
        session.add(row)
    await session.execute(delete(ReferralRow).where(ReferralRow.person_id == state.person_id))
    checks = next_checks(state, sla)
    for r in state.referrals.values():
        session.add(ReferralRow(
            person_id=state.person_id, referral_id=r.referral_id, kind=r.kind.value, origin=r.origin.value,
            rule=r.rule, from_structure=r.from_structure, to_structure=r.to_structure, status=r.status.value,
            issued_on=r.issued_on, acknowledge_due=r.acknowledge_due, accept_due=r.accept_due,
            appointment_due=r.appointment_due, acknowledged_on=r.acknowledged_on, accepted_on=r.accepted_on,
            refused_on=r.refused_on, refusal_reason=r.refusal_reason.value if r.refusal_reason else None,
            expired_on=r.expired_on, closed_on=r.closed_on, sla_breached=r.sla_breached,
            next_check_on=checks[r.referral_id]))
    await session.flush()


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
