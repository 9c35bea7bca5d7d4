"""The vault's rows of a batch admitted in one go are written at its end as plain rows, not as ORM objects.

A consumed batch or a group of HTTP requests admitted without SAVEPOINTs gathers its new people, their match
keys and file numbers as plain rows (store.known.gather), written in one statement per table. What they leave
is what the events admitted one by one leave (test_batch_rows_as_alone); here: that no ORM object is built for
them, that a request failing in a group leaves none of its rows, and how gathered rows live through the
transaction (found before and after they are written, kept through a SAVEPOINT's rollback, forgotten with the
whole transaction's).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.store import known
from services.intake.store.tables import MatchKeyRow, PartnerRefRow, PersonRow, metadata
from tests.support.databases import engine_with_tables
from tests.unit.intake.test_batch_rows_as_alone import SAM, Store, partner_stream, records, registration
from tests.unit.intake.test_batch_rows_as_alone import store as store  # noqa: F401 - the fixture

VAULT_ROWS = (PersonRow, MatchKeyRow, PartnerRefRow)


@pytest.fixture
def built() -> Iterator[Counter[str]]:
    """How many ORM objects of the vault's tables are built meanwhile, by table."""
    counts: Counter[str] = Counter()
    listeners = [(model, (lambda name: lambda *_: counts.update([name]))(model.__tablename__))
                 for model in VAULT_ROWS]
    for model, listener in listeners:
        event.listen(model, "init", listener)
    yield counts
    for model, listener in listeners:
        event.remove(model, "init", listener)


async def test_a_batch_builds_no_orm_object_for_the_vaults_rows(store: Callable[[str], Store],
                                                                built: Counter[str]) -> None:
    stream = partner_stream()
    async with store("batch") as batch:
        await batch.processor.process_batch(records(stream, []))
        rows = await batch.rows()
    assert len(rows["intake_person"]) > 10 and rows["intake_match_key"] and rows["intake_partner_ref"]
    assert not built, "a consumed batch admitted in one go writes its vault's rows as plain rows"

    async with store("group") as http:
        from services.intake.api.admissions import Admissions

        admissions = Admissions(http.ctx, http.deps)  # type: ignore[arg-type]
        await asyncio.gather(*(admissions.admit([body]) for body in stream))
        assert {table: len(found) for table, found in (await http.rows()).items()
                if table.startswith("intake_")} == {table: len(found) for table, found in rows.items()
                                                    if table.startswith("intake_")}
    assert not built, "a group of requests admitted in one go writes its vault's rows as plain rows"


async def test_a_request_failing_in_a_group_leaves_none_of_its_rows(
        store: Callable[[str], Store], monkeypatch: pytest.MonkeyPatch) -> None:
    """The group is admitted again with a SAVEPOINT per request: the failing registration's person, keys and
    file number, gathered before it failed, are not written; the others' are, as if it had never been sent."""
    from services.intake.api.admissions import Admissions
    from services.intake.store import events as stored_events

    stream = partner_stream()
    failing = registration("reg-9", "ML-9", {**SAM, "first_names": "Zoe"})
    async with store("reference") as reference:
        for record in records(stream, []):
            await reference.processor.process_batch([record])
        expected = await reference.rows()
    expected["outbox"] = [e for e in expected["outbox"] if e[3] != "deadletter"]

    record_event = stored_events.record

    async def failing_record(session: AsyncSession, **row: Any) -> None:
        if row["event_id"] == "reg-9":
            raise RuntimeError("the store failed on this event")
        await record_event(session, **row)

    monkeypatch.setattr(stored_events, "record", failing_record)
    async with store("failing") as http:
        admissions = Admissions(http.ctx, http.deps)  # type: ignore[arg-type]
        answers = await asyncio.gather(*(admissions.admit([body]) for body in [*stream[:5], failing, *stream[5:]]),
                                       return_exceptions=True)
        found = await http.rows()
    assert [type(a).__name__ for a in answers if isinstance(a, BaseException)] == ["RuntimeError"]
    assert found == expected


@pytest.fixture
async def session(database_url: str) -> Any:
    async with engine_with_tables(database_url, metadata) as engine, AsyncSession(engine) as session:
        yield session


def person(pid: str) -> known.Plain:
    return known.Plain(person_id=pid, wrapped_key=b"k", identity=b"i", nir_key=None, merged_into=None)


async def stored(session: AsyncSession) -> list[str]:
    return list((await session.exec(select(PersonRow.person_id).order_by(PersonRow.person_id))).all())


async def test_gathered_rows_are_found_written_before_a_savepoint_and_forgotten_by_a_rollback(
        session: AsyncSession) -> None:
    async with session.begin():
        known.start_batch(session)
        known.gather(session, PersonRow, "p_a", person("p_a"))
        assert (await known.get(session, PersonRow, "p_a")).identity == b"i"  # found, not written yet
        assert known.unwritten(session, PersonRow, "p_a")
        assert await stored(session) == ["p_a"]  # any statement writes them first, as an autoflush would
        assert not known.unwritten(session, PersonRow, "p_a")
        assert (await known.get(session, PersonRow, "p_a")).identity == b"i"  # and still found

        known.gather(session, PersonRow, "p_b", person("p_b"))
        with pytest.raises(RuntimeError):
            async with session.begin_nested():  # written before the SAVEPOINT: its rollback keeps them
                assert not known.batched(session)
                assert await stored(session) == ["p_a", "p_b"]
                raise RuntimeError("a record isolated in its SAVEPOINT fails")
        assert await stored(session) == ["p_a", "p_b"]

        known.gather(session, PersonRow, "p_c", person("p_c"))
        # Nothing else asked: written before the commit.
    async with session.begin():
        assert await stored(session) == ["p_a", "p_b", "p_c"]

    with pytest.raises(RuntimeError):
        async with session.begin():
            known.start_batch(session)
            known.gather(session, PersonRow, "p_d", person("p_d"))
            raise RuntimeError("the batch fails: rolled back whole")
    async with session.begin():
        assert await known.get(session, PersonRow, "p_d") is None
        assert await stored(session) == ["p_a", "p_b", "p_c"]
