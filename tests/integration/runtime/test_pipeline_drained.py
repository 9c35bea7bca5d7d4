"""The drain check sees a two-stage pipeline come to rest, transactional topics included."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from services.runtime.db import make_engine
from local.kafka import create_topics
from local.drain import PipelineWatcher
from tests.support.services import running_service, test_settings

from counter_service import DEFINITION, IN_TOPIC, OUT_TOPIC, SINK_DEFINITION
from kafka_io import produce
from test_crash_recovery import _event

EVENTS = 300


async def _count(url: str, table: str) -> int:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
    finally:
        await engine.dispose()


async def test_lag_reaches_zero_exactly_when_both_stages_are_done(kafka_bootstrap, topic_prefix,
                                                                   database_url_factory):
    await create_topics(kafka_bootstrap, {f"{topic_prefix}{IN_TOPIC}": 3, f"{topic_prefix}{OUT_TOPIC}": 3})
    counter_url, sink_url = await database_url_factory("counter"), await database_url_factory("sink")
    common = dict(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    watcher = PipelineWatcher(kafka_bootstrap, {
        f"{topic_prefix}ariane-counter": [f"{topic_prefix}{IN_TOPIC}"],
        f"{topic_prefix}ariane-sink": [f"{topic_prefix}{OUT_TOPIC}"],
    })
    async with running_service(DEFINITION, test_settings(database_url=counter_url, **common)) as (counter, _), \
            running_service(SINK_DEFINITION, test_settings(database_url=sink_url, **common)) as (sink, _):
        relays = [counter.state.ctx.relay, sink.state.ctx.relay]
        await watcher.start()
        try:
            await produce(kafka_bootstrap, f"{topic_prefix}{IN_TOPIC}", [_event(i) for i in range(EVENTS)])
            first = await watcher.progress()
            assert first.lag > 0  # nothing can have been consumed and committed yet for all 300
            deadline = asyncio.get_running_loop().time() + 60
            previous = None
            while True:
                # At rest: no group behind, nothing waiting in an outbox, and nothing published meanwhile.
                now = await watcher.progress()
                pending = sum([await relay.pending_count() for relay in relays])
                if now.idle and pending == 0 and previous == now:
                    break
                assert asyncio.get_running_loop().time() < deadline, f"never drained: {now}, outbox {pending}"
                previous = now if pending == 0 else None
                await asyncio.sleep(0.05)
        finally:
            await watcher.stop()
        # At rest means done: the sink has every event the counter published.
        assert await _count(sink_url, "sink_inbox") == EVENTS
        assert await _count(counter_url, "counter_applied") == EVENTS
