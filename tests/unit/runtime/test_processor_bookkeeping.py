"""What the processor tells an operator about the records it applies: every log line written while a record is
applied names the record's correlation id and where it came from, nothing of it stays on the lines written after,
and /metrics counts each event once by service, topic and type."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone

import pytest
import structlog
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import LogCapture

from contracts.envelope import Envelope
from services.runtime.db import make_session_factory
from services.runtime.metrics import RuntimeMetrics
from services.runtime.processor import EventProcessor
from services.runtime.records import Record
from services.runtime.settings import RuntimeSettings
from services.runtime.tables import runtime_tables
from services.runtime.unit_of_work import UnitOfWork
from tests.support.databases import engine_with_tables

SERVICE = "booktest"
PARTNERS = "ariane.partner.v1"
CLOCK = "ariane.clock.v1"
metadata = MetaData()
tables = runtime_tables(metadata, SERVICE)
handler_log = structlog.get_logger("booktest.handler")


def record(topic: str, partition: int, offset: int, event_id: str, event_type: str, *,
           correlation: str | None = None, refuse: bool = False) -> Record:
    ev = Envelope(id=event_id, source="test", type=event_type, subject="p-1", correlationid=correlation,
                  time=datetime(2026, 1, 5, 9, tzinfo=timezone.utc), data={"refuse": refuse})
    return Record(topic, partition, offset, b"p-1", ev.to_json_bytes())


async def note(ev: Envelope, _uow: UnitOfWork) -> None:
    handler_log.info("deciding", subject=ev.subject)
    if ev.data["refuse"]:
        raise ValueError("this one is refused")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with engine_with_tables(database_url, metadata) as engine:
        yield engine


@pytest.fixture
def lines() -> Iterator[list[dict]]:
    """The log lines as a service writes them: the context bound around a record merged into each."""
    capture = LogCapture()
    before = structlog.get_config()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture],
                        cache_logger_on_first_use=False)
    structlog.contextvars.clear_contextvars()
    try:
        yield capture.entries
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.configure(**before)


def processor(engine: AsyncEngine, metrics: RuntimeMetrics) -> EventProcessor:
    return EventProcessor(SERVICE, make_session_factory(engine), tables, note, metrics, RuntimeSettings(),
                          parse=Envelope.model_validate_json)


def samples(metrics: RuntimeMetrics) -> dict[tuple[str, tuple], float]:
    """/metrics as a scraper reads it."""
    text = generate_latest(metrics.registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_every_line_logged_while_a_record_is_applied_names_its_correlation_id_and_position(
        engine: AsyncEngine, lines: list[dict]) -> None:
    batch = [record(PARTNERS, 2, 40, "ev-a", "partner.noted", correlation="case-7"),
             record(CLOCK, 0, 9, "ev-b", "clock.ticked"),  # no correlation id of its own: its id stands for it
             Record(PARTNERS, 2, 41, b"p-1", b"{not json")]
    await processor(engine, RuntimeMetrics.create(SERVICE)).process_batch(batch)
    structlog.get_logger("booktest").info("after the batch")

    deciding = [line for line in lines if line["event"] == "deciding"]
    assert [(d["correlation_id"], d["event_id"], d["event_type"], d["topic"], d["partition"], d["offset"])
            for d in deciding] == [("case-7", "ev-a", "partner.noted", PARTNERS, 2, 40),
                                   ("ev-b", "ev-b", "clock.ticked", CLOCK, 0, 9)]
    # The unreadable record has no id to name, but says where it lies; nothing of its neighbours sticks to it.
    [dead] = [line for line in lines if line["event"] == "dead_lettered"]
    assert (dead["topic"], dead["partition"], dead["offset"]) == (PARTNERS, 2, 41)
    assert "correlation_id" not in dead and "event_id" not in dead
    [after] = [line for line in lines if line["event"] == "after the batch"]
    assert not {"topic", "partition", "offset", "correlation_id", "event_id", "event_type"} & set(after)


async def test_a_refused_event_is_logged_with_its_correlation_id_and_what_was_bound_before_stays(
        engine: AsyncEngine, lines: list[dict]) -> None:
    structlog.contextvars.bind_contextvars(service=SERVICE, topic="bound by the caller")
    batch = [record(PARTNERS, 1, 5, "ev-ok", "partner.noted", correlation="case-1"),
             record(PARTNERS, 1, 6, "ev-no", "partner.noted", correlation="case-2", refuse=True)]
    await processor(engine, RuntimeMetrics.create(SERVICE)).process_batch(batch)
    structlog.get_logger("booktest").info("after the batch")

    [refused] = [line for line in lines if line["event"] == "handler_rejected_event"]
    assert (refused["correlation_id"], refused["topic"], refused["partition"], refused["offset"]) == (
        "case-2", PARTNERS, 1, 6)
    [dead] = [line for line in lines if line["event"] == "dead_lettered"]
    assert (dead["correlation_id"], dead["event_id"], dead["offset"]) == ("case-2", "ev-no", 6)
    assert all(line["service"] == SERVICE for line in lines)
    [after] = [line for line in lines if line["event"] == "after the batch"]
    assert after["topic"] == "bound by the caller" and "offset" not in after and "correlation_id" not in after


async def test_metrics_count_each_event_once_by_topic_and_type_across_batches(engine: AsyncEngine) -> None:
    metrics = RuntimeMetrics.create(SERVICE)
    apply = processor(engine, metrics)
    await apply.process_batch([record(PARTNERS, 0, 0, "ev-1", "partner.noted"),
                               record(PARTNERS, 0, 1, "ev-2", "partner.noted"),
                               record(CLOCK, 0, 0, "ev-3", "clock.ticked")])
    await apply.process_batch([record(PARTNERS, 0, 1, "ev-2", "partner.noted"),  # delivered again
                               record(PARTNERS, 0, 2, "ev-4", "partner.closed"),
                               Record(PARTNERS, 0, 3, b"p-1", b"{not json")])

    seen = samples(metrics)

    def value(name: str, **labels: str) -> float | None:
        return seen.get((name, tuple(sorted({"service": SERVICE, **labels}.items()))))

    assert value("ariane_events_processed_total", topic=PARTNERS, type="partner.noted") == 2
    assert value("ariane_events_processed_total", topic=PARTNERS, type="partner.closed") == 1
    assert value("ariane_events_processed_total", topic=CLOCK, type="clock.ticked") == 1
    assert value("ariane_events_duplicate_total", topic=PARTNERS) == 1
    assert value("ariane_events_dead_lettered_total", topic=PARTNERS, reason="unparseable or invalid event") == 1
    # Each event the handler was asked to decide is timed once (the one delivered again included); each batch once.
    assert value("ariane_handler_seconds_count") == 5
    assert value("ariane_consumer_batch_seconds_count") == 2
