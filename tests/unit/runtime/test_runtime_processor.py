"""A consumed batch on a real database: applied in one go, and when one of its records fails, that record alone
is dead-lettered with its reason while every other record of the batch is applied once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.envelope import Envelope
from services.runtime.db import make_session_factory
from services.runtime.deadletter import DeadLetter
from services.runtime.metrics import RuntimeMetrics
from services.runtime.processor import EventProcessor
from services.runtime.records import Record
from services.runtime.settings import RuntimeSettings
from services.runtime.tables import runtime_tables
from services.runtime.unit_of_work import UnitOfWork
from tests.support.databases import engine_with_tables
from tests.support.turns import OtherWork, spin

SERVICE = "batchtest"
TOPIC = "ariane.partner.v1"
metadata = MetaData()
tables = runtime_tables(metadata, SERVICE)
notes = Table(f"{SERVICE}_note", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
              Column("text", String(64), nullable=False))


class Refused(Exception):
    pass


def record(offset: int, *, poison: bool = False) -> Record:
    ev = Envelope(id=f"ev-{offset}", source="test", type="test.noted", subject=f"p-{offset}",
                  time=datetime(2026, 1, 5, 9, tzinfo=timezone.utc), data={"poison": poison})
    return Record(TOPIC, 0, offset, ev.subject.encode(), ev.to_json_bytes())


async def note_and_tell(ev: Envelope, uow: UnitOfWork) -> None:
    """Writes a note and emits an event; a poison event is refused after its writes."""
    await uow.session.exec(insert(notes).values(text=ev.id))
    await uow.emit(ev.model_copy(update={"id": f"told-{ev.id}"}), "ariane.told.v1")
    if ev.data["poison"]:
        raise Refused(f"{ev.id} asks to be refused")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with engine_with_tables(database_url, metadata) as engine:
        yield engine


def processor(engine: AsyncEngine, metrics: RuntimeMetrics) -> EventProcessor:
    return EventProcessor(SERVICE, make_session_factory(engine), tables, note_and_tell, metrics, RuntimeSettings(),
                          parse=Envelope.model_validate_json)


async def stored(engine: AsyncEngine) -> tuple[list[str], list[str], list[DeadLetter], list[str]]:
    async with engine.connect() as conn:
        texts = (await conn.execute(select(notes.c.text).order_by(notes.c.id))).scalars().all()
        outbox = (await conn.execute(select(tables.outbox.c.event_id, tables.outbox.c.event_type,
                                            tables.outbox.c.payload).order_by(tables.outbox.c.id))).all()
        inbox = (await conn.execute(select(tables.inbox.c.event_id).order_by(tables.inbox.c.event_id))).scalars()
        inbox_ids = list(inbox.all())
    told = [r.event_id for r in outbox if r.event_type != "deadletter"]
    letters = [DeadLetter.parse(bytes(r.payload)) for r in outbox if r.event_type == "deadletter"]
    return list(texts), told, letters, inbox_ids


def isolated_again(metrics: RuntimeMetrics) -> float:
    return metrics.registry.get_sample_value(
        "ariane_errors_total", {"service": SERVICE, "kind": "batch_applied_again_isolated"}) or 0.0


async def test_a_poison_record_in_a_batch_is_dead_lettered_alone_and_the_others_are_applied_once(
        engine: AsyncEngine) -> None:
    metrics = RuntimeMetrics.create(SERVICE)
    batch = [record(0), record(1), record(2, poison=True), Record(TOPIC, 0, 3, b"p-3", b"{not json"), record(4)]
    await processor(engine, metrics).process_batch(batch)

    texts, told, letters, inbox = await stored(engine)
    # The good records' notes and events once each, in order; nothing of the refused one's half-done work.
    assert texts == ["ev-0", "ev-1", "ev-4"]
    assert told == ["told-ev-0", "told-ev-1", "told-ev-4"]
    by_offset = {letter["source"]["offset"]: letter for letter in letters}
    assert set(by_offset) == {2, 3}
    assert "ev-2 asks to be refused" in by_offset[2]["reason"]
    assert by_offset[2]["original"] == batch[2].value
    assert by_offset[3]["reason"].startswith("unparseable or invalid event")
    # Every record is marked, the letters included: a redelivery changes nothing.
    assert len(inbox) == 5
    await processor(engine, metrics).process_batch(batch)
    assert await stored(engine) == (texts, told, letters, inbox)
    assert isolated_again(metrics) == 1


async def test_a_clean_batch_is_applied_without_a_savepoint_per_record(engine: AsyncEngine) -> None:
    savepoints: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _watch(_conn, _cursor, statement: str, *_args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SAVEPOINT"):
            savepoints.append(statement)

    metrics = RuntimeMetrics.create(SERVICE)
    await processor(engine, metrics).process_batch([record(n) for n in range(4)])

    texts, told, letters, inbox = await stored(engine)
    assert texts == ["ev-0", "ev-1", "ev-2", "ev-3"]
    assert told == ["told-ev-0", "told-ev-1", "told-ev-2", "told-ev-3"]
    assert letters == [] and len(inbox) == 4
    assert savepoints == []
    assert isolated_again(metrics) == 0


async def test_a_record_seen_in_an_earlier_batch_is_skipped_and_its_neighbours_applied(engine: AsyncEngine) -> None:
    metrics = RuntimeMetrics.create(SERVICE)
    await processor(engine, metrics).process_batch([record(0), record(1)])
    await processor(engine, metrics).process_batch([record(1), record(2, poison=True), record(3)])

    texts, told, letters, _ = await stored(engine)
    assert texts == ["ev-0", "ev-1", "ev-3"]
    assert told == ["told-ev-0", "told-ev-1", "told-ev-3"]
    assert [letter["source"]["offset"] for letter in letters] == [2]


async def test_a_long_batch_lets_the_rest_of_the_process_run_while_it_is_applied(engine):
    """A handler that never waits on the database (followup gathers its writes for the batch's end) folds a batch
    of 500 in one stretch; meanwhile /health and the relay, on the same event loop, must still get turns."""
    seen_by_handler: list[int] = []  # how many turns the rest of the process had had, at each event
    async with OtherWork() as other:  # what /health does: answer whenever the loop lets it
        async def busy(ev: Envelope, uow: UnitOfWork) -> None:  # 2 ms of work an event, no await that suspends
            seen_by_handler.append(other.turns)
            spin(0.002)

        proc = EventProcessor(SERVICE, make_session_factory(engine), tables, busy, RuntimeMetrics.create(SERVICE),
                              RuntimeSettings(), parse=Envelope.model_validate_json)
        await proc.process_batch([record(i) for i in range(500)])  # about one second of handler work
    assert len(seen_by_handler) == 500
    # Before, the rest of the process ran only while the batch waited on the database (its claim, its commit),
    # never between two events: all 500 saw the same count. Now it runs every few events.
    assert len(set(seen_by_handler)) > 50, len(set(seen_by_handler))


async def test_parsing_a_long_batch_lets_the_rest_of_the_process_run(engine):
    """Validating 500 records is tens of ms before the first handler runs: /health and the relay, on the same
    event loop, must get turns during it too, not only once the handlers start."""
    seen_by_parser: list[int] = []  # how many turns the rest of the process had had, at each record parsed

    async def nothing(ev: Envelope, uow: UnitOfWork) -> None:
        return None

    async with OtherWork() as other:
        def slow_parse(raw: bytes) -> Envelope:  # 2 ms of validation a record
            seen_by_parser.append(other.turns)
            spin(0.002)
            return Envelope.model_validate_json(raw)

        proc = EventProcessor(SERVICE, make_session_factory(engine), tables, nothing, RuntimeMetrics.create(SERVICE),
                              RuntimeSettings(), parse=slow_parse)
        await proc.process_batch([record(i) for i in range(300)])
    assert len(seen_by_parser) == 300
    # Before, the whole batch was parsed in one stretch: every record saw the same count.
    assert len(set(seen_by_parser)) > 20, len(set(seen_by_parser))


async def test_what_a_handler_leaves_for_after_the_commit_happens_once_for_what_was_committed(
        engine: AsyncEngine) -> None:
    # A service counts into its metrics once its writes are committed: the batch below is applied twice (in one
    # go, rolled back at the poison record, then isolated), and the refused record's work is undone.
    counted: list[str] = []

    async def note_tell_and_count(ev: Envelope, uow: UnitOfWork) -> None:
        uow.on_commit(lambda: counted.append(ev.id))
        await note_and_tell(ev, uow)

    proc = EventProcessor(SERVICE, make_session_factory(engine), tables, note_tell_and_count,
                          RuntimeMetrics.create(SERVICE), RuntimeSettings(), parse=Envelope.model_validate_json)
    batch = [record(0), record(1), record(2, poison=True), record(3)]
    await proc.process_batch(batch)
    assert counted == ["ev-0", "ev-1", "ev-3"]
    await proc.process_batch(batch)  # delivered again: nothing is applied, nothing counted
    assert counted == ["ev-0", "ev-1", "ev-3"]


async def test_a_batch_applied_in_one_go_writes_its_outbox_rows_in_one_statement(engine: AsyncEngine) -> None:
    inserts: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _watch(_conn, _cursor, statement: str, *_args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith(f"INSERT INTO {SERVICE}_OUTBOX".upper()):
            inserts.append(statement)

    metrics = RuntimeMetrics.create(SERVICE)
    batch = [record(0), record(1), Record(TOPIC, 0, 2, b"p-2", b"{not json"), record(3)]
    await processor(engine, metrics).process_batch(batch)

    texts, told, letters, inbox = await stored(engine)
    assert told == ["told-ev-0", "told-ev-1", "told-ev-3"]  # in the order they were emitted
    assert [letter["source"]["offset"] for letter in letters] == [2]
    assert len(inserts) == 1  # three events and a dead letter: one statement, before the commit
