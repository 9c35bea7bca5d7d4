"""Two instances of one service: they split the partitions, one publishes the shared outbox, the other stands
by, and when the leader stops the other takes over. Every event is counted once and published once."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

from local.kafka import create_topics
from tests.support.services import running_service, test_settings

from counter_service import DEFINITION
from kafka_io import produce, read_all
from test_crash_recovery import _applied, _event


async def _published_ids(bootstrap: str, topic: str) -> list[str]:
    return [json.loads(r.value)["id"] for r in await read_all(bootstrap, topic)]


async def _wait_for(predicate, what: str, timeout: float = 45) -> None:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.2)


async def test_two_instances_share_the_work_and_one_relay_leads(kafka_bootstrap, topic_prefix, database_url):
    in_topic, out_topic = f"{topic_prefix}counter.in", f"{topic_prefix}counter.out"
    await create_topics(kafka_bootstrap, {in_topic: 4, out_topic: 4})
    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix)

    async with AsyncExitStack() as first_stack:
        _first, first = await first_stack.enter_async_context(running_service(DEFINITION, settings))
        async with running_service(DEFINITION, settings) as (_second, second):
            await produce(kafka_bootstrap, in_topic, [_event(i) for i in range(40)])

            async def all_forty() -> bool:
                return len(await _published_ids(kafka_bootstrap, out_topic)) >= 40

            await _wait_for(all_forty, "the first 40 events were not all published")
            roles = sorted([(await first.get("/health")).json()["relay"], (await second.get("/health")).json()["relay"]])
            assert roles == ["leader", "standby"]
            await first_stack.aclose()  # the first instance stops: its partitions and, if it led, the lease move

            await produce(kafka_bootstrap, in_topic, [_event(i) for i in range(40, 60)])

            async def all_sixty() -> bool:
                return len(await _published_ids(kafka_bootstrap, out_topic)) >= 60

            await _wait_for(all_sixty, "the survivor did not take over the consuming and the publishing")
            assert (await second.get("/health")).json()["relay"] == "leader"
            assert (await second.get("/health/ready")).status_code == 200

    ids = await _published_ids(kafka_bootstrap, out_topic)
    assert sorted(ids) == sorted(f"evt-{i:05d}:counted" for i in range(60)), "each event published exactly once"
    assert await _applied(database_url) == (60, 60, 60)
