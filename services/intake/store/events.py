"""The accepted partner events, by (source, id): what tells a duplicate from a conflict, and the id each was
published under. The rows of an erased person keep keyed digests instead of the partner's ids (`forget`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select as core_select
from sqlalchemy import insert, update
from sqlmodel import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.domain import erasure
from services.intake.store import known
from services.intake.store.tables import EventRow, ReviewRow

# What this transaction knows of published ids (see `load`): the id, or its keyed digest, is taken or not.
_PUBLISHED = "intake.published_ids"


def _published(session: AsyncSession) -> dict[str, bool]:
    return known.cache(session, _PUBLISHED)


@dataclass(frozen=True)
class Seen:
    """An event this source already sent: is it the same content, and what was answered for it."""

    same_content: bool
    person_id: str | None
    published_id: str


async def load(session: AsyncSession, secret: bytes, events: list[tuple[str, str]]) -> None:
    """Read at once what `seen_before` and `id_is_published` will ask of these (source, id) pairs: a batch of
    events costs two statements here instead of three per event."""
    if not events:
        return
    await known.load(session, EventRow, [key for source, event_id in events
                                         for key in ((source, event_id),
                                                     (source, erasure.forgotten_event_id(secret, source, event_id)))])
    published = _published(session)
    forms = [form for _source, event_id in events
             for form in (event_id, erasure.forgotten_published_id(secret, event_id)) if form not in published]
    for i in range(0, len(forms), known.CHUNK):
        chunk = list(dict.fromkeys(forms[i:i + known.CHUNK]))
        taken = set((await session.exec(select(EventRow.published_id).where(EventRow.published_id.in_(chunk)))).all())
        published.update((form, form in taken) for form in chunk)


# The rows a batch admitted in one go (store.known.batched) recorded, by (source, id): `seen_before` finds them
# here for the whole transaction, also once `write_gathered` has written them (`known` may have taken their key
# for absent before they were), and _UNWRITTEN are those still to write.
_GATHERED = "intake.gathered_events"
_UNWRITTEN = "intake.unwritten_events"


def _gathered(session: AsyncSession) -> dict[tuple[str, str], dict[str, str | None]]:
    return session.info.setdefault(_GATHERED, {})


async def seen_before(session: AsyncSession, secret: bytes, source: str, event_id: str,
                      content_sha256: str) -> Seen | None:
    """The earlier acceptance of (source, event_id), also when its person was erased since (its row then
    holds digests keyed by `secret`), or None."""
    gathered = _gathered(session).get((source, event_id))
    if gathered is not None:  # accepted earlier in this batch
        return Seen(gathered["content_sha256"] == content_sha256, gathered["person_id"],
                    str(gathered["published_id"]))
    row = await known.get(session, EventRow, (source, event_id))
    if row is not None:
        return Seen(row.content_sha256 == content_sha256, row.person_id, row.published_id)
    row = await known.get(session, EventRow, (source, erasure.forgotten_event_id(secret, source, event_id)))
    if row is not None:
        return Seen(row.content_sha256 == erasure.forgotten_content(secret, content_sha256), row.person_id,
                    row.published_id)
    return None


async def id_is_published(session: AsyncSession, secret: bytes, published_id: str) -> bool:
    """Some accepted event (of any source) is already published under this id, its person erased or not."""
    forms = (published_id, erasure.forgotten_published_id(secret, published_id))
    published = _published(session)
    if all(form in published for form in forms):
        return any(published[form] for form in forms)
    await write_gathered(session)  # the query below must see the rows of this batch too
    return (await session.exec(select(EventRow.source).where(EventRow.published_id.in_(forms))
                               .limit(1))).first() is not None


async def record(session: AsyncSession, *, source: str, event_id: str, content_sha256: str, published_id: str,
                 person_id: str | None) -> None:
    if known.batched(session):
        # A batch admitted in one go: its rows in one statement at its end (`write_gathered`), as plain rows
        # rather than ORM objects (building and flushing one cost more than the rest of recording it).
        row = {"source": source, "event_id": event_id, "content_sha256": content_sha256,
               "published_id": published_id, "person_id": person_id}
        _gathered(session)[(source, event_id)] = row
        session.info.setdefault(_UNWRITTEN, []).append(row)
    else:
        # Not flushed here: the rows go to the database together, at the next flush (`known.get` finds a row
        # still pending, and `session.get` flushes before it reads).
        session.add(EventRow(source=source, event_id=event_id, content_sha256=content_sha256,
                             published_id=published_id, person_id=person_id))
    published = _published(session)
    if published:
        published[published_id] = True


async def write_gathered(session: AsyncSession) -> None:
    """The rows `record` gathered for the batch, in one statement (accepted_at: the database's now)."""
    rows = session.info.pop(_UNWRITTEN, None)
    if rows:
        await session.execute(insert(EventRow.__table__), rows)  # type: ignore[attr-defined]


async def forget(session: AsyncSession, secret: bytes, person_ids: list[str]) -> None:
    """An erasure: the events accepted about these ids, and the cause of their reviews, keep keyed digests of
    the partners' ids (which may hold a file number) and of the content; the rows stay, so a resend of the
    same event is still a duplicate and publishes nothing."""
    # Rows change keys below: what this transaction read as absent or unpublished may not be any more; the rows
    # of the batch so far are among those to change.
    await write_gathered(session)
    session.info.pop(_GATHERED, None)  # they may change below: read from the database from now on
    known.forget(session)
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
