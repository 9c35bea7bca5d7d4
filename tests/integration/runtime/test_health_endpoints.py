"""/health/live and /health/ready: what an orchestrator asks, answered from the real service host."""

from __future__ import annotations

from local.kafka import create_topics
from tests.support.services import running_service, test_settings

from counter_service import DEFINITION


async def test_live_and_ready_answer_with_their_checks(kafka_bootstrap, topic_prefix, database_url):
    await create_topics(kafka_bootstrap, {f"{topic_prefix}counter.in": 1, f"{topic_prefix}counter.out": 1})
    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix)
    async with running_service(DEFINITION, settings) as (_app, client):
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
        health = (await client.get("/health")).json()

    assert live.status_code == 200 and live.json()["status"] == "alive"
    assert ready.status_code == 200, ready.json()
    assert ready.json()["checks"] == {"database": "ok", "consumer": "ok", "broker": "ok"}
    assert health["tasks"] == {"relay": "ok", "consumer": "ok"}
    assert health["broker"] == "ok"
