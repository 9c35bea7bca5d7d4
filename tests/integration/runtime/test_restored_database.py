"""A database restored from an older backup: its unpublished outbox rows are sent, not taken as sent.

The relay keeps, on Kafka, a mark saying "every outbox row below this id is published". A database restored to
an earlier point holds rows below that mark that this history never sent; trusting the mark would lose them.
"""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import insert

from local.kafka import create_topics
from services.runtime.db import make_engine
from tests.support.services import running_service, test_settings

from counter_service import DEFINITION, Base
from health_io import health_once_outbox_empty
from kafka_io import produce, read_all
from test_crash_recovery import _event


async def _published(bootstrap: str, topic: str) -> list[str]:
    return sorted(json.loads(r.value)["id"] for r in await read_all(bootstrap, topic))


async def _wait(bootstrap: str, topic: str, count: int) -> list[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while len(ids := await _published(bootstrap, topic)) < count:
        assert loop.time() < deadline, f"{len(ids)} of {count} records published: {ids}"
        await asyncio.sleep(0.2)
    return ids


async def test_rows_of_a_restored_outbox_are_published(kafka_bootstrap, topic_prefix, database_url_factory):
    in_topic, out_topic = f"{topic_prefix}counter.in", f"{topic_prefix}counter.out"
    await create_topics(kafka_bootstrap, {in_topic: 1, out_topic: 1})
    first_db = await database_url_factory("before")
    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=first_db, topic_prefix=topic_prefix)
    async with running_service(DEFINITION, settings):
        await produce(kafka_bootstrap, in_topic, [_event(i) for i in range(6)])
        await _wait(kafka_bootstrap, out_topic, 6)  # the relay's mark is now past outbox id 6

    # The "restored" database: an older state whose outbox holds two rows not yet sent when it was saved.
    restored = await database_url_factory("restored")
    engine = make_engine(restored)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        for n in (1, 2):
            body = {"specversion": "1.0", "id": f"restored-{n}", "source": "ariane/counter", "type": "test.counted",
                    "subject": "p_001", "time": "2026-01-01T00:00:00+00:00", "data": {"n": n}}
            await conn.execute(insert(DEFINITION.tables.outbox).values(
                topic=out_topic, key="p_001", event_id=f"restored-{n}", event_type="test.counted",
                payload=json.dumps(body).encode(), headers="{}"))
    await engine.dispose()

    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=restored, topic_prefix=topic_prefix)
    async with running_service(DEFINITION, settings) as (_app, client):
        ids = await _wait(kafka_bootstrap, out_topic, 8)
        assert (await health_once_outbox_empty(client))["outbox_pending"] == 0

    assert {"restored-1", "restored-2"} <= set(ids)
