"""An input of a megabyte or ten, on either path, is refused or dead-lettered with its reason, and the events
sent right behind it are published: nothing a partner sends can hold the pipeline back.

Before, one such input stopped intake for good: over HTTP an event with a 1 MiB `datacontenttype` (a field
with no length limit) was stored and could never be published; on Kafka a 1 MB record made a dead letter
larger than the broker accepts. Every later event waited behind it.
"""

from __future__ import annotations

import asyncio
import json
import uuid

from aiokafka import AIOKafkaProducer
from intake_harness import contact, intake_topic, read_topic, registration

from contracts import topics
from services.runtime.settings import RuntimeSettings
from tests.support.kafka import admin_security

MIB = 1 << 20
# The broker's default message.max.bytes is 1,048,588: one record batch with its ~70 bytes of headers.
NEAR_BROKER_LIMIT = 1_048_000


def _someone(source: str) -> dict:
    return registration(source, identity={"last_name": "Perrin", "first_names": "Zoé", "birth_date": "2001-04-05"})


async def _published(intake, ids: set[str], within: float = 30.0) -> float:
    """Seconds until every one of `ids` is on ariane.intake.v1 (fails after `within`)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        on_topic = {json.loads(v)["id"] for _, v in await read_topic(intake.bootstrap, intake_topic(intake.prefix))}
        if ids <= on_topic:
            return loop.time() - started
        assert loop.time() - started < within, f"not published: {sorted(ids - on_topic)}"
        await asyncio.sleep(0.2)


def _many_unknown_fields(source: str, subject: str, size: int) -> dict:
    """A contact whose data holds unknown fields with long names, about `size` bytes in all."""
    event = contact(source, subject)
    name = "f" * 990
    event["data"].update({f"{name}{i:06d}": 0 for i in range(size // 1000)})
    return event


async def test_a_megabyte_or_ten_over_http_is_refused_by_name_and_the_next_events_are_published(intake):
    source = "mission_locale_angevine"
    token = await intake.key_for(source)
    registered = await intake.post(_someone(source), token)
    assert registered.status_code == 202, registered.text
    person = registered.json()["results"][0]["person_id"]

    # The input of the report: a 1 MiB datacontenttype, a field that had no length limit.
    big_type = contact(source, person) | {"datacontenttype": "a" * MIB}
    # A 1 MiB value in one bounded field of an otherwise small event, under the body limit (2,000,000 bytes).
    big_ref = _someone(source)
    big_ref["data"]["partner_ref"] = "R" * MIB
    # A megabyte of unknown field names: the answer lists 50 and counts the rest, never a megabyte of names.
    many = _many_unknown_fields(source, person, MIB)

    answers = {}
    for name, body in (("datacontenttype", big_type), ("partner_ref", big_ref), ("unknown_fields", many)):
        assert len(json.dumps(body)) > MIB
        answers[name] = await intake.post(body, token)
    ten = await intake.post(contact(source, person) | {"datacontenttype": "a" * (10 * MIB)}, token)

    async def chunks():  # ten megabytes with no Content-Length: the body is counted as it comes
        yield b'{"padding": "'
        for _ in range(10):
            yield b"x" * MIB
        yield b'"}'
    streamed = await intake.client.post("/v1/events", content=chunks(), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})

    after = [contact(source, person) for _ in range(3)]
    sent_after = asyncio.get_running_loop().time()
    accepted = await intake.post(after, token)
    answered_in = asyncio.get_running_loop().time() - sent_after
    published_in = await _published(intake, {e["id"] for e in after})

    for name, loc in (("datacontenttype", "datacontenttype"), ("partner_ref", "data.partner_ref")):
        response = answers[name]
        assert response.status_code == 422, response.text
        result = response.json()["results"][0]
        assert (result["status"], result["reason"]) == ("rejected", "invalid_event")
        assert [e["loc"] for e in result["errors"]] == [loc]
        assert len(response.content) < 10_000, "the answer names the field, never echoes its value"
    unknown = answers["unknown_fields"]
    assert unknown.status_code == 422
    errors = unknown.json()["results"][0]["errors"]
    assert len(errors) == 51 and errors[-1]["type"] == "errors_cut"
    assert errors[0]["type"] == "extra_forbidden" and errors[0]["loc"] == "data.<unexpected key>"
    assert len(unknown.content) < 100_000
    for response in (ten, streamed):
        assert response.status_code == 413, response.text
        assert response.json()["error"] == "too_large"
        assert "2000000 bytes" in response.json()["detail"]

    assert accepted.status_code == 202, accepted.text
    assert [r["status"] for r in accepted.json()["results"]] == ["accepted"] * 3
    print(f"\nHTTP: events after the oversized requests answered 202 in {answered_in:.2f} s, "
          f"seen on the topic {published_in:.2f} s after that")
    published = await read_topic(intake.bootstrap, intake_topic(intake.prefix))
    assert max(len(v) for _, v in published) < 10_000, "nothing oversized was published"


async def test_a_megabyte_record_on_the_inbound_topic_is_dead_lettered_small_and_the_records_behind_it_go_on(
        intake):
    source = "cap_emploi_49"
    token = await intake.key_for(source)
    registered = await intake.post(_someone(source), token)
    assert registered.status_code == 202, registered.text
    person = registered.json()["results"][0]["person_id"]

    before = contact(source, person)
    big_type = contact(source, person) | {"datacontenttype": "a" * 1_000_000}
    near_limit = _many_unknown_fields(source, person, 0)
    near_limit["data"]["x"] = ""
    near_limit["data"]["x"] = "y" * (NEAR_BROKER_LIMIT - len(json.dumps(near_limit)))
    names = _many_unknown_fields(source, person, 1_000_000)
    not_json = b"\xff" + b"z" * 999_999
    behind = [contact(source, person) for _ in range(3)]

    inbound = intake.prefix + topics.inbound_topic(source)
    records = [json.dumps(before).encode(), json.dumps(big_type).encode(), json.dumps(near_limit).encode(),
               json.dumps(names).encode(), not_json, *(json.dumps(e).encode() for e in behind)]
    assert len(records[2]) == NEAR_BROKER_LIMIT
    producer = AIOKafkaProducer(bootstrap_servers=intake.bootstrap, **admin_security(intake.bootstrap),
                                enable_idempotence=True)
    await producer.start()
    try:
        # One partition, one key: the small records sit right behind the large ones, in order.
        for value in records:
            await producer.send_and_wait(inbound, value, key=f"REF-{uuid.uuid4().hex[:6]}".encode(), partition=0)
    finally:
        await producer.stop()
    published_in = await _published(intake, {before["id"], *(e["id"] for e in behind)})

    dead_topic = intake.prefix + topics.DEADLETTER
    letters: list[bytes] = []
    for _ in range(150):  # the letters are published with the events behind them, in the same outbox order
        letters = [v for _, v in await read_topic(intake.bootstrap, dead_topic)
                   if json.loads(v)["letter_id"].startswith("dlq:intake:")]
        if len(letters) >= 4:
            break
        await asyncio.sleep(0.2)
    assert len(letters) == 4, f"{len(letters)} letters for the 4 refused records"

    relay_limit = RuntimeSettings().max_record_bytes
    by_kind = {}
    for raw in letters:
        letter = json.loads(raw)
        assert len(raw) < relay_limit / 4, f"a letter of {len(raw)} bytes"
        assert letter["source"]["partition"] == 0 and letter["source"]["topic"] == inbound
        assert "y" * 600 not in letter.get("original_text", "") and "a" * 600 not in letter.get("original_text", "")
        locs = [e["loc"] for e in letter["errors"]]
        kind = ("not_json" if letter["reason"].startswith("unparseable") else "datacontenttype" if locs ==
                ["datacontenttype"] else "names" if locs and letter["errors"][-1]["type"] == "errors_cut" else "near")
        by_kind[kind] = letter
        print(f"\nKafka: a refused record made a letter of {len(raw)} bytes: {kind}, {letter['reason'][:70]!r}")
    assert sorted(by_kind) == ["datacontenttype", "names", "near", "not_json"]
    # What was cut says how long it was, so an operator can tell what the partner sent.
    assert "[1000000 characters withheld by intake]" in by_kind["datacontenttype"]["original_text"]
    assert by_kind["near"]["reason"].startswith("invalid_event")
    assert "characters withheld by intake]" in by_kind["near"]["original_text"]
    assert by_kind["names"]["errors"][-1]["msg"].endswith("more errors not kept")
    print(f"Kafka: the records behind them were on ariane.intake.v1 {published_in:.2f} s after the last was produced")
