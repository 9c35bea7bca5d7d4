"""Batches through the runtime's real processor on SQLite: the stored documents equal the pure fold."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from local.sample import sample_events
from services.reporting.app import ReportingDeps
from services.reporting.domain.projection import fold
from services.reporting.handlers import HANDLERS
from services.reporting.settings import ReportingSettings
from services.reporting.store import VERSIONS_DIR, load_state, metadata, tables
from services.runtime.db import make_engine, make_session_factory
from services.runtime.metrics import RuntimeMetrics
from services.runtime.migrate import upgrade_to_head
from services.runtime.processor import EventProcessor
from services.runtime.records import Record
from services.runtime.routing import route
from services.runtime.settings import RuntimeSettings

on_event = route(HANDLERS, ReportingDeps.of(ReportingSettings()))


async def reporting_store(tmp_path: Path) -> tuple[AsyncEngine, EventProcessor]:
    """A fresh reporting store on SQLite and the runtime's processor applying records to it."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    await upgrade_to_head(engine, "reporting", metadata, VERSIONS_DIR)
    return engine, EventProcessor("reporting", make_session_factory(engine), tables, on_event,
                                  RuntimeMetrics.create("reporting"), RuntimeSettings())


def records_of(pairs: list) -> list[Record]:  # noqa: ANN001 - (topic, event) pairs of the simulator
    return [Record(topic, 0, n, e.subject.encode(), e.to_json_bytes()) for n, (topic, e) in enumerate(pairs)]


async def test_batched_documents_equal_the_fold(tmp_path: Path) -> None:
    engine, processor = await reporting_store(tmp_path)
    pairs = sample_events(people=20, seed=5)
    records = records_of(pairs)
    # A poison record in the middle of a batch: dead-lettered alone, its neighbours still folded.
    records.insert(30, Record("ariane.intake.v1", 0, 10_000, b"x", b"not json"))
    for start in range(0, len(records), 64):
        await processor.process_batch(records[start:start + 64])
    # Redelivery of a whole batch: the inbox skips it, nothing changes.
    await processor.process_batch(records[:64])
    try:
        assert await load_state(engine) == fold(e for _, e in pairs)
    finally:
        await engine.dispose()


async def test_a_consumed_batch_reads_its_documents_in_one_query_and_writes_them_in_one(tmp_path: Path) -> None:
    """A batch about many people costs the store two statements on the documents, not one read per document."""
    from sqlalchemy import event

    engine, processor = await reporting_store(tmp_path)
    pairs = sample_events(people=20, seed=5)
    records = records_of(pairs)
    first, second = records[:60], records[60:120]
    await processor.process_batch(first)
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _note(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if "reporting_document" in statement:
            seen.append(statement.split()[0].upper())

    try:
        # The second batch is about the same people: documents the first one wrote are read and joined into.
        await processor.process_batch(second)
        assert seen == ["SELECT", "INSERT"]
        assert await load_state(engine) == fold(e for _, e in pairs[:120])
    finally:
        await engine.dispose()
