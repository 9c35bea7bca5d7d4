"""With the broker stopped the endpoint answers 503 (never 202); once it is back a retried batch lands once.

Uses a private broker: the session broker is shared and must not be stopped."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from intake_harness import RunningIntake, intake_settings, intake_topic, read_topic, registration

from services.intake.app import definition
from local.kafka import LocalKafka, ensure_topics
from tests.support.services import running_service, test_settings


async def test_broker_down_answers_503_then_a_retried_batch_lands_exactly_once(tmp_path, database_url,
                                                                              kafka_bootstrap):
    broker = LocalKafka(tmp_path / "private-kafka", die_with_parent=True)
    await asyncio.to_thread(broker.start, 90)
    try:
        prefix = "down."
        await ensure_topics(broker.bootstrap, partitions=3, prefix=prefix)
        settings = test_settings(kafka_bootstrap=broker.bootstrap, database_url=database_url, topic_prefix=prefix)
        async with running_service(definition(intake_settings(publish_timeout_s=3.0)), settings) as (app, client):
            intake = RunningIntake(app.state.ctx, client, prefix, broker.bootstrap)
            token = await intake.key_for("departement_49")
            # Names far apart: three people, no near-duplicate review to announce besides the registrations.
            batch = [registration("departement_49", identity={"last_name": name, "first_names": "Alex",
                                                              "birth_date": "1980-01-01"})
                     for name in ("Martin", "Lefebvre", "Dubois")]
            await asyncio.wait_for(asyncio.to_thread(broker.stop), 60)
            down = await asyncio.wait_for(intake.post(batch, token), 30)
            assert down.status_code == 503
            assert int(down.headers["Retry-After"]) >= 1

            await asyncio.wait_for(asyncio.to_thread(broker.start, 90), 100)
            deadline = asyncio.get_running_loop().time() + 120
            while True:
                answer = await asyncio.wait_for(intake.post(batch, token), 30)
                assert answer.status_code in (202, 503), answer.text
                if answer.status_code == 202:
                    break
                assert asyncio.get_running_loop().time() < deadline, "the relay never recovered"
            # Every event was stored by the first attempt: the retry sees them as duplicates, now on Kafka.
            assert [r["status"] for r in answer.json()["results"]] == ["duplicate"] * 3
            # A 202 means the relay's Kafka transaction committed. A read_committed reader sees its records once
            # the broker has also written the transaction's markers, which it does just after answering the
            # commit, and which lagged a second or more behind it on a loaded machine right after the restart:
            # read again until the three are there (bounded), then check that each is there exactly once.
            wanted = Counter({e["id"]: 1 for e in batch})
            visible_by = asyncio.get_running_loop().time() + 30
            while True:
                published = await read_topic(broker.bootstrap, intake_topic(prefix))
                counts = Counter(json.loads(v)["id"] for _, v in published)
                if set(counts) >= set(wanted) or asyncio.get_running_loop().time() > visible_by:
                    break
                await asyncio.sleep(0.5)
            assert counts == wanted
    finally:
        await asyncio.to_thread(broker.stop)
