"""The partners' topics: same acceptance as HTTP; refusals dead-lettered with a reason and without the identity."""

from __future__ import annotations

import asyncio
import json

from aiokafka import AIOKafkaProducer
from intake_harness import contact, intake_topic, partner_topic, read_topic, registration

from contracts import topics
from tests.support.kafka import admin_security


async def wait_for(predicate, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.2)


async def test_inbound_events_are_accepted_deduplicated_or_dead_lettered(intake):
    token = await intake.key_for("mission_locale_angevine")
    over_http = registration(identity={"last_name": "Moreau", "first_names": "Inès", "birth_date": "2003-03-03"})
    assert (await intake.post(over_http, token)).status_code == 202

    good = registration("cap_emploi_49", identity={"nir": "1 85 12 49 007 555 12", "last_name": "Garnier",
                                                   "first_names": "Hugo", "birth_date": "1985-12-01"})
    intruder = registration("not_a_structure", identity={"nir": "1 85 12 49 007 666 12", "last_name": "Faux",
                                                         "first_names": "Nom", "birth_date": "1985-12-01"})
    orphan = contact("cap_emploi_49", "NOBODY-KNOWS-ME")
    producer = AIOKafkaProducer(bootstrap_servers=intake.bootstrap, **admin_security(intake.bootstrap), enable_idempotence=True)
    await producer.start()
    try:
        inbound = partner_topic(intake.prefix, "cap_emploi_49")
        for topic, event in ((inbound, good), (inbound, good),
                             (partner_topic(intake.prefix, "mission_locale_angevine"), over_http),
                             (inbound, intruder), (inbound, orphan)):
            await producer.send_and_wait(topic, json.dumps(event).encode(), key=event["subject"].encode())
        await producer.send_and_wait(inbound, b"\x00 not an event", key=b"x")
    finally:
        await producer.stop()

    dead_topic = intake.prefix + topics.DEADLETTER
    letters = await wait_for(lambda: _letters(intake.bootstrap, dead_topic, 3))
    reasons = sorted(json.loads(v)["reason"].split(":")[0] for _, v in letters)
    # The intruder, a structure the territory does not know, wrote on Cap emploi's topic: not its sender.
    assert reasons == ["forbidden_source", "unknown_person", "unparseable"]
    for _, value in letters:
        letter = json.loads(value)
        # The planted NIR's own digits, not a bare "666" that a random event id may hold by chance.
        text = letter.get("original_text", "")
        assert "Faux" not in text and "007 666" not in text and "00766612" not in text.replace(" ", "")
    published = await read_topic(intake.bootstrap, intake_topic(intake.prefix))
    ids = [json.loads(v)["id"] for _, v in published]
    # The HTTP registration once, the Kafka one once: the duplicate and the cross-path replay are not re-emitted.
    assert sorted(ids) == sorted([over_http["id"], good["id"]])


async def _letters(bootstrap: str, topic: str, n: int):
    letters = [rec for rec in await read_topic(bootstrap, topic) if json.loads(rec[1]).get("letter_id")]
    return letters if len(letters) >= n else None
