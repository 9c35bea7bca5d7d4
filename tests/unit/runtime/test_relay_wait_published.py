"""A request waiting for its events to be on Kafka (OutboxRelay.wait_published, intake's 202): answered as soon
as the relay has published its rows, without reading the outbox again for each publication; answered too when
another instance publishes them (this one standing by), when they were published before the wait, and told
"not yet" when its time runs out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData, insert, update

from services.runtime import relay as relay_module
from services.runtime.db import make_engine, make_session_factory
from services.runtime.metrics import RuntimeMetrics
from services.runtime.relay import OutboxRelay
from services.runtime.settings import RuntimeSettings
from services.runtime.tables import RuntimeTables, runtime_tables


class Broker:
    """What the relay's producer needs of a broker that takes every record."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    async def send(self, topic: str, payload: bytes, **_: object) -> asyncio.Future[None]:
        self.sent.append(payload)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def send_offsets_to_transaction(self, *_: object) -> None:
        return None


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[object, RuntimeTables]]:
    metadata = MetaData()
    tables = runtime_tables(metadata, "svc")
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield make_session_factory(engine), tables
    finally:
        await engine.dispose()


def relay_of(factory: object, tables: RuntimeTables, lease: object | None = None) -> OutboxRelay:
    relay = OutboxRelay(service="svc", session_factory=factory, tables=tables, bootstrap="unused:9092",
                        metrics=RuntimeMetrics.create("svc", CollectorRegistry()), settings=RuntimeSettings(),
                        lease=lease)  # type: ignore[arg-type]
    relay.producer = Broker()  # type: ignore[assignment]
    return relay


async def committed_rows(factory, tables: RuntimeTables, n: int) -> list[int]:  # noqa: ANN001
    async with factory() as session, session.begin():
        ids = []
        for i in range(n):
            result = await session.execute(insert(tables.outbox).values(
                topic="t", key="k", event_id=f"e{i}", event_type="x", payload=f"p{i}".encode()))
            ids.append(result.inserted_primary_key[0])
        return ids


async def marked_elsewhere(factory, tables: RuntimeTables, ids: list[int]) -> None:  # noqa: ANN001
    """Another instance of the service (the leader) published these rows: only the database says so."""
    async with factory() as session, session.begin():
        await session.execute(update(tables.outbox).where(tables.outbox.c.id.in_(ids))
                              .values(published_at=datetime.now(timezone.utc)))


async def test_a_request_is_answered_once_the_relay_publishes_its_rows(store, monkeypatch) -> None:  # noqa: ANN001
    factory, tables = store
    # The outbox is not read again while waiting: only the relay's own publication can answer this request.
    monkeypatch.setattr(relay_module, "WAIT_POLL_S", 3600.0)
    relay = relay_of(factory, tables)
    ids = await committed_rows(factory, tables, 3)
    waiting = asyncio.create_task(relay.wait_published(ids, timeout=60))
    await asyncio.sleep(0)
    assert await relay.publish_pending() == 3
    assert await asyncio.wait_for(waiting, timeout=30) is True
    assert relay._waiting == {}  # noqa: SLF001 - nothing left behind for the next requests


async def test_two_requests_each_wait_for_their_own_rows_only(store, monkeypatch) -> None:  # noqa: ANN001
    factory, tables = store
    monkeypatch.setattr(relay_module, "WAIT_POLL_S", 3600.0)
    relay = relay_of(factory, tables)
    first = await committed_rows(factory, tables, 2)
    first_waits = asyncio.create_task(relay.wait_published(first, timeout=60))
    await asyncio.sleep(0)
    await relay.publish_pending()
    second = await committed_rows(factory, tables, 2)
    # The second request's rows are not on Kafka yet: it is told so when its time runs out.
    assert await relay.wait_published(second, timeout=0.2) is False
    assert await asyncio.wait_for(first_waits, timeout=30) is True
    assert relay._waiting == {}  # noqa: SLF001


async def test_rows_published_before_the_wait_answer_at_once(store) -> None:  # noqa: ANN001
    factory, tables = store
    relay = relay_of(factory, tables)
    ids = await committed_rows(factory, tables, 2)
    await relay.publish_pending()
    assert await relay.wait_published(ids, timeout=0.01) is True


async def test_a_standby_instance_learns_from_the_outbox_that_the_leader_published(store) -> None:  # noqa: ANN001
    factory, tables = store
    standby = relay_of(factory, tables, lease=SimpleNamespace(held=False))
    ids = await committed_rows(factory, tables, 2)
    waiting = asyncio.create_task(standby.wait_published(ids, timeout=60))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await marked_elsewhere(factory, tables, ids)
    assert await asyncio.wait_for(waiting, timeout=30) is True


async def test_a_request_whose_rows_are_never_published_is_told_so(store) -> None:  # noqa: ANN001
    factory, tables = store
    relay = relay_of(factory, tables)
    ids = await committed_rows(factory, tables, 1)
    assert await relay.wait_published(ids, timeout=0.2) is False
    assert relay._waiting == {}  # noqa: SLF001
