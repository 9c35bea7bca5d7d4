"""The relay queues a batch of up to 500 records on the producer, which only buffers them: the rest of the process
(/health, the consumer) must still get turns of the event loop meanwhile, and the records keep their order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData, insert

from services.runtime.db import make_engine, make_session_factory
from services.runtime.metrics import RuntimeMetrics
from services.runtime.relay import OutboxRelay
from services.runtime.settings import RuntimeSettings
from services.runtime.tables import runtime_tables


class BusyBroker:
    """A producer whose send costs 1 ms of CPU and never waits, as aiokafka's does while its buffer has room."""

    def __init__(self, turns: list[int]) -> None:
        self.turns = turns
        self.sent: list[bytes] = []
        self.seen: list[int] = []  # the other task's turns so far, at each send

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    async def send(self, topic: str, payload: bytes, **_: object) -> asyncio.Future[None]:
        self.seen.append(self.turns[0])
        until = time.perf_counter() + 0.001
        while time.perf_counter() < until:
            pass
        self.sent.append(payload)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def send_offsets_to_transaction(self, *_: object) -> None:
        return None


async def test_a_large_batch_of_the_outbox_is_sent_in_order_while_the_rest_of_the_process_runs(tmp_path: Path):
    metadata = MetaData()
    tables = runtime_tables(metadata, "svc")
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    factory = make_session_factory(engine)
    async with factory() as session, session.begin():
        await session.execute(insert(tables.outbox), [
            {"topic": "t", "key": "k", "event_id": f"e{i}", "event_type": "x", "payload": f"p{i:03d}".encode()}
            for i in range(300)])
    turns = [0]
    broker = BusyBroker(turns)
    relay = OutboxRelay(service="svc", session_factory=factory, tables=tables, bootstrap="unused:9092",
                        metrics=RuntimeMetrics.create("svc", CollectorRegistry()), settings=RuntimeSettings())
    relay.producer = broker  # type: ignore[assignment]
    sending = True

    async def other_work() -> None:  # what /health does: answer whenever the loop lets it
        while sending:
            turns[0] += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    try:
        await asyncio.sleep(0)
        assert await relay.publish_pending() == 300
    finally:
        sending = False
        await other
        await engine.dispose()
    assert broker.sent == [f"p{i:03d}".encode() for i in range(300)]
    # Before, the 300 records were queued in one stretch: every send saw the same count of the other's turns.
    assert len(set(broker.seen)) > 10, len(set(broker.seen))
