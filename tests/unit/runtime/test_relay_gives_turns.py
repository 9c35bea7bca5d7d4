"""The relay queues a batch of up to 500 records on the producer, which only buffers them: the rest of the process
(/health, the consumer) must still get turns of the event loop meanwhile, and the records keep their order."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import MetaData, insert

from services.runtime.db import make_session_factory
from services.runtime.tables import runtime_tables
from tests.support.databases import engine_with_tables
from tests.support.turns import OtherWork, spin
from tests.unit.runtime.test_relay_wait_published import Broker, relay_of


class BusyBroker(Broker):
    """A producer whose send costs 1 ms of CPU and never waits, as aiokafka's does while its buffer has room;
    it notes the other task's turns so far at each send."""

    def __init__(self, other: OtherWork) -> None:
        super().__init__()
        self.other = other
        self.seen: list[int] = []

    async def send(self, topic: str, payload: bytes, **kwargs: object) -> asyncio.Future[None]:
        self.seen.append(self.other.turns)
        spin(0.001)
        return await super().send(topic, payload, **kwargs)


async def test_a_large_batch_of_the_outbox_is_sent_in_order_while_the_rest_of_the_process_runs(tmp_path: Path):
    metadata = MetaData()
    tables = runtime_tables(metadata, "svc")
    async with engine_with_tables(f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}", metadata) as engine:
        factory = make_session_factory(engine)
        async with factory() as session, session.begin():
            await session.execute(insert(tables.outbox), [
                {"topic": "t", "key": "k", "event_id": f"e{i}", "event_type": "x", "payload": f"p{i:03d}".encode()}
                for i in range(300)])
        relay = relay_of(factory, tables)
        async with OtherWork() as other:  # what /health does: answer whenever the loop lets it
            broker = BusyBroker(other)
            relay.producer = broker  # type: ignore[assignment]
            assert await relay.publish_pending() == 300
            await relay.marked()
    assert broker.sent == [f"p{i:03d}".encode() for i in range(300)]
    # Before, the 300 records were queued in one stretch: every send saw the same count of the other's turns.
    assert len(set(broker.seen)) > 10, len(set(broker.seen))
