"""Erasures in the store: one row per person erased, written in the transaction that shreds the key and emits
its person.erased, so the list auditors read and the topic always agree; the closures the retention clock
erases from. A person's access request reads what else intake holds on them (accepted events, reviews) from
here too."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Table, delete
from sqlalchemy import select as core_select
from sqlmodel import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import utc
from contracts.erasure import PersonErased
from services.intake.store import known as loaded
from services.intake.store.tables import ClosureRow, EntitlementRow, ErasureRow, EventRow, ReviewRow


async def record(session: AsyncSession, event: PersonErased, key_id: str, role: str) -> ErasureRow:
    d = event.data
    row = ErasureRow(erasure_id=d.erasure_id, person_id=d.person_id, merged_person_ids=json.dumps(d.merged_person_ids),
                     reason=d.reason.value, requested_by=d.requested_by, key_id=key_id, role=role,
                     erased_on=d.erased_on, erased_at=utc(event.time))  # UTC: SQLite keeps no offset
    session.add(row)
    await session.flush()
    return row


async def of_person(session: AsyncSession, person_id: str) -> ErasureRow | None:
    """The erasure of a person (a canonical id), if they were erased."""
    return (await session.exec(select(ErasureRow).where(ErasureRow.person_id == person_id))).first()


async def listing(session: AsyncSession, *, person_id: str | None, requested_by: str | None,
                  since: datetime | None, until: datetime | None, limit: int) -> list[ErasureRow]:
    """Erasures matching every filter given, oldest first; `until` is exclusive."""
    query = select(ErasureRow)
    if person_id is not None:
        query = query.where(ErasureRow.person_id == person_id)
    if requested_by is not None:
        query = query.where(ErasureRow.requested_by == requested_by)
    if since is not None:
        query = query.where(ErasureRow.erased_at >= utc(since))
    if until is not None:
        query = query.where(ErasureRow.erased_at < utc(until))
    query = query.order_by(ErasureRow.erased_at, ErasureRow.erasure_id).limit(limit)
    return list((await session.exec(query)).all())


async def accepted_events(session: AsyncSession, person_ids: list[str]) -> list[EventRow]:
    """The partner events intake accepted about these ids, in the order it accepted them."""
    return list((await session.exec(select(EventRow).where(EventRow.person_id.in_(person_ids))
                                    .order_by(EventRow.accepted_at, EventRow.source, EventRow.event_id))).all())


async def reviews_of(session: AsyncSession, person_ids: list[str]) -> list[ReviewRow]:
    """Identity reviews one of these ids is part of."""
    return list((await session.exec(select(ReviewRow).where(or_(
        ReviewRow.person_a.in_(person_ids), ReviewRow.person_b.in_(person_ids))))).all())


async def entitled(session: AsyncSession, person_ids: list[str]) -> list[EntitlementRow]:
    """The structures that may see these ids' identity, on what basis, since when."""
    return list((await session.exec(select(EntitlementRow).where(EntitlementRow.person_id.in_(person_ids))
                                    .order_by(EntitlementRow.since, EntitlementRow.structure_id))).all())


async def published(session: AsyncSession, outbox: Table, person_ids: list[str]) -> list[tuple[str, str, datetime]]:
    """(event id, type, when) of what intake published about these ids and still keeps in its outbox."""
    rows = await session.execute(core_select(outbox.c.event_id, outbox.c.event_type, outbox.c.created_at).where(
        outbox.c.key.in_(person_ids), outbox.c.event_type != "deadletter").order_by(outbox.c.id))
    return [(event_id, event_type, utc(created)) for event_id, event_type, created in rows.all()]


async def forget_published(session: AsyncSession, outbox: Table, person_ids: list[str]) -> None:
    """Intake's own copy of what it already published about these ids (a registration's copy holds the
    structure's file number): dropped. Rows not yet published stay, to be published."""
    await session.execute(delete(outbox).where(outbox.c.key.in_(person_ids), outbox.c.published_at.is_not(None)))


async def closed(session: AsyncSession, person_id: str, closed_on: date) -> None:
    """The person's case was closed on `closed_on` (the latest closure counts)."""
    row = await session.get(ClosureRow, person_id)
    if row is None:
        session.add(ClosureRow(person_id=person_id, closed_on=closed_on))
    elif closed_on > row.closed_on:
        row.closed_on = closed_on
        session.add(row)
    await session.flush()


async def reopened(session: AsyncSession, person_id: str, on: date) -> None:
    """An event about the person on a day after their closure: they are followed again, the retention clock
    stops (a late event dated on or before the closure's day does not reopen them). Most people are not
    closed: when the batch's closures were read ahead (`load_closures`), that costs no statement."""
    row = await loaded.get(session, ClosureRow, person_id)
    if row is not None and row.closed_on < on:
        await session.execute(delete(ClosureRow).where(ClosureRow.person_id == person_id, ClosureRow.closed_on < on))


async def load_closures(session: AsyncSession, person_ids: list[str]) -> None:
    """Read at once the closures of the people a batch of events is about (see store.known)."""
    await loaded.load(session, ClosureRow, [(person_id,) for person_id in person_ids])


async def closed_before(session: AsyncSession, day: date, limit: int) -> list[str]:
    """People closed on or before `day` (oldest closure first), at most `limit`."""
    return list((await session.exec(select(ClosureRow.person_id).where(ClosureRow.closed_on <= day)
                                    .order_by(ClosureRow.closed_on, ClosureRow.person_id).limit(limit))).all())


async def forget_closure(session: AsyncSession, person_ids: list[str]) -> None:
    await session.execute(delete(ClosureRow).where(ClosureRow.person_id.in_(person_ids)))
