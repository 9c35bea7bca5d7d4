"""Senders are who they say, on Kafka: each partner writes its own topic as its own principal, and intake takes
the topic as the sender, as it takes the API key's structure over HTTP.

The Mission locale, logged in as itself, writes on its own topic: its registration goes through; one record
claiming to come from the PLIE and one whose data says the PLIE did the registering are dead-lettered with the
reason, nothing of them is published, and the PLIE may still send an event with the id that was misused.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaProducer
from intake_harness import intake_topic, partner_topic, read_topic, registration

from contracts import topics
from services.runtime.kafka_security import read_credentials

ML, PLIE = "mission_locale_angevine", "plie_angers"


@pytest.fixture
def partner_login(local_kafka):  # noqa: ANN001, ANN201
    """The aiokafka security arguments of a partner structure's own principal on the session's broker."""
    if local_kafka is None:
        pytest.skip("KAFKA_BOOTSTRAP names a broker whose principals this suite does not know")

    def of(structure_id: str) -> dict:
        found = read_credentials(local_kafka.credentials_dir / f"partner-{structure_id}.json")
        assert found is not None, structure_id
        return found.client_kwargs()

    return of


async def _send_as(intake, structure_id: str, security: dict, events: list[dict]) -> None:  # noqa: ANN001
    producer = AIOKafkaProducer(bootstrap_servers=intake.bootstrap, enable_idempotence=True, **security)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(partner_topic(intake.prefix, structure_id), json.dumps(event).encode(),
                                         key=event["subject"].encode())
    finally:
        await producer.stop()


async def _until(probe, what: str, timeout: float = 30.0):  # noqa: ANN001, ANN202
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await probe()):
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.2)
    return found


async def test_a_partner_writes_its_own_events_and_cannot_speak_for_another(intake, partner_login):  # noqa: ANN001
    own = registration(ML, identity={"last_name": "Lefort", "first_names": "Maël", "birth_date": "2004-06-11"})
    as_plie = registration(PLIE, identity={"last_name": "Benard", "first_names": "Lou", "birth_date": "2003-01-20"})
    as_plie["id"] = "plie-2025-0001"
    made_by_plie = registration(ML, identity={"last_name": "Roux", "first_names": "Léa", "birth_date": "2002-09-02"})
    made_by_plie["data"]["structure_id"] = PLIE
    await _send_as(intake, ML, partner_login(ML), [as_plie, made_by_plie, own])

    async def letters() -> list[dict]:
        found = [json.loads(v) for _, v in await read_topic(intake.bootstrap, intake.prefix + topics.DEADLETTER)]
        found = [letter for letter in found if letter.get("letter_id")]
        return found if len(found) >= 2 else []

    async def published() -> list[dict]:
        return [json.loads(v) for _, v in await read_topic(intake.bootstrap, intake_topic(intake.prefix))]

    got = await _until(letters, "the two impersonations were not dead-lettered")
    reasons = sorted(letter["reason"] for letter in got)
    assert [r.split(":", 1)[0] for r in reasons] == ["forbidden_source", "forbidden_structure"]
    # The partner is told which topic is the Mission locale's own; the claimed source is not echoed.
    assert f"source is not {ML}" in reasons[0] and partner_topic("", ML) in reasons[0]
    assert {letter["source"]["topic"] for letter in got} == {partner_topic(intake.prefix, ML)}
    assert all("Benard" not in letter.get("original_text", "") for letter in got)

    out = await _until(published, "the Mission locale's own registration was not published")
    assert [e["id"] for e in out] == [own["id"]]

    # The PLIE itself, on its own topic, with the id the Mission locale misused: that id was never consumed.
    await _send_as(intake, PLIE, partner_login(PLIE), [as_plie])
    out = await _until(lambda: _published_more(published, 2), "the PLIE's own registration was not published")
    assert sorted(e["id"] for e in out) == sorted([own["id"], as_plie["id"]])
    assert [e["source"] for e in out if e["id"] == as_plie["id"]] == [PLIE]


async def _published_more(published, n: int) -> list[dict]:  # noqa: ANN001
    out = await published()
    return out if len(out) >= n else []
