"""The FastStream broker factory publishes contract events, keyed and counted, on the real broker."""

from __future__ import annotations

import json
from datetime import date

from prometheus_client import CollectorRegistry, generate_latest

from contracts.clock import DayStarted
from contracts.topics import CLOCK
from services.runtime.broker import connected_broker, publish

from kafka_io import read_all


async def test_published_ticks_are_on_the_topic_keyed_and_counted(kafka_bootstrap, topic_prefix):
    registry = CollectorRegistry()
    days = [date(2026, 3, d) for d in (1, 2, 3)]
    async with connected_broker(kafka_bootstrap, service="clock-test", registry=registry,
                                principal="clock") as broker:
        for day in days:
            await publish(broker, DayStarted.for_day(day), f"{topic_prefix}{CLOCK}")

    records = await read_all(kafka_bootstrap, f"{topic_prefix}{CLOCK}")
    assert [json.loads(r.value)["id"] for r in records] == [f"clock-{d.isoformat()}" for d in days]
    assert {r.key for r in records} == {b"clock"}
    assert dict(records[0].headers)["ce_type"] == b"fr.ariane.clock.day_started"
    assert "faststream_published_messages_total" in generate_latest(registry).decode()
