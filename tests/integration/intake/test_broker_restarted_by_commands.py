"""The broker stopped with `ariane kafka stop` and started again with `ariane kafka start` while intake runs:
during the outage every request is answered 503 with Retry-After (never 500), and afterwards intake recovers by
itself on both paths, HTTP and the inbound topic, without being restarted.

test_broker_down.py stops and starts a broker through the library; this test goes through the commands an
operator types, on a broker of its own (the session broker is shared and must not be stopped).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from aiokafka import AIOKafkaProducer
from intake_harness import RunningIntake, contact, intake_settings, intake_topic, read_topic, registration

from contracts import topics
from local.kafka import LocalKafka
from services.intake.app import definition
from services.runtime.kafka_security import register_credentials_dir
from tests.support.kafka import admin_security
from tests.support.services import running_service, test_settings

RECOVERY_BOUND_S = 30.0


def ariane_kafka(*args: str, data_dir: Path, timeout: float = 240) -> str:
    """Run `ariane kafka <args> --data-dir <data_dir>` as an operator would, and return what it printed."""
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP"}
    done = subprocess.run([sys.executable, "-m", "cli.main", "kafka", *args, "--data-dir", str(data_dir)],
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def until_accepted(intake: RunningIntake, batch: list[dict], token: str, statuses: list[int],
                         bound: float = RECOVERY_BOUND_S) -> float:
    """Seconds until the batch is answered 202, every answer noted in `statuses`; fails past `bound`."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while True:
        answer = await asyncio.wait_for(intake.post(batch, token), 60)
        statuses.append(answer.status_code)
        if answer.status_code == 202:
            return loop.time() - began
        assert answer.status_code == 503, answer.text
        assert loop.time() - began < bound, "intake did not recover by itself"
        await asyncio.sleep(0.5)


async def test_intake_rides_out_a_broker_stopped_and_started_with_the_commands(tmp_path, database_url):
    data_dir = tmp_path / "kafka"
    try:
        ariane_kafka("start", "--partitions", "1", "--timeout", "180", data_dir=data_dir)
        bootstrap = LocalKafka(data_dir).read_state()["bootstrap"]
        register_credentials_dir(bootstrap, LocalKafka(data_dir).credentials_dir)
        settings = test_settings(kafka_bootstrap=bootstrap, database_url=database_url, topic_prefix="")
        async with running_service(definition(intake_settings(publish_timeout_s=3.0)), settings) as (app, client):
            intake = RunningIntake(app.state.ctx, client, "", bootstrap)
            token = await intake.key_for("departement_49")
            statuses: list[int] = []
            first = [registration("departement_49", identity={
                "last_name": "Roux", "first_names": "Camille", "birth_date": "1990-06-01"})]
            # The relay's first Kafka transaction may take longer than the 3 s a request waits, on a busy machine.
            await until_accepted(intake, first, token, statuses, bound=120)
            person = (await intake.post(first, token)).json()["results"][0]["person_id"]

            ariane_kafka("stop", data_dir=data_dir)
            during = [contact("departement_49", person) for _ in range(2)]
            for _ in range(3):
                answer = await asyncio.wait_for(intake.post(during, token), 60)
                statuses.append(answer.status_code)
                assert answer.status_code == 503, answer.text
                assert int(answer.headers["Retry-After"]) >= 1
            health = await client.get("/health")
            statuses.append(health.status_code)

            ariane_kafka("start", "--partitions", "1", "--timeout", "180", data_dir=data_dir)
            assert LocalKafka(data_dir).read_state()["bootstrap"] == bootstrap, "the broker came back elsewhere"
            http_recovery = await until_accepted(intake, during, token, statuses)

            behind = contact("departement_49", person)
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **admin_security(bootstrap))
            await producer.start()
            try:
                await producer.send_and_wait(topics.inbound_topic(behind["source"]), json.dumps(behind).encode(),
                                             key=b"REF-1")
            finally:
                await producer.stop()
            loop = asyncio.get_running_loop()
            began = loop.time()
            while True:
                ids = [json.loads(v)["id"] for _, v in await read_topic(bootstrap, intake_topic(""))]
                if behind["id"] in ids:
                    break
                assert loop.time() - began < RECOVERY_BOUND_S, "the inbound consumer did not recover by itself"
                await asyncio.sleep(0.5)
            kafka_recovery = loop.time() - began
    finally:
        ariane_kafka("stop", data_dir=data_dir)

    assert 500 not in statuses, statuses
    # Stored during the outage, published once after it: no event lost, none twice.
    assert sorted(ids) == sorted({first[0]["id"], *(e["id"] for e in during), behind["id"]})
    print(f"\nbroker restarted with the commands: HTTP accepted again {http_recovery:.1f} s after `ariane kafka "
          f"start` returned, an inbound record published {kafka_recovery:.1f} s after it was produced; answers "
          f"seen: {sorted(set(statuses))}")
