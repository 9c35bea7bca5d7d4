"""One table of cases, played over HTTP and over the partners' topics: the same bytes get the same verdict.

(source, id) identifies an event; the same event again is a duplicate, another event with the same id a
conflict; a refused event never consumes its id; dates, personal data and the structures named are checked.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaProducer
from intake_harness import read_topic

from contracts import topics

try:  # the broker's client credentials, when the test broker asks for them
    from tests.support.kafka import admin_security
except ImportError:  # pragma: no cover
    def admin_security(bootstrap: str) -> dict:  # noqa: ARG001
        return {}

ML, CAP = "mission_locale_angevine", "cap_emploi_49"


def registration(source: str, event_id: str, corr: str, *, ref: str, nir_tail: str, **over) -> dict:
    data = {"structure_id": source, "registered_on": "2026-02-03", "birth_year": 2004, "commune_insee": "49007",
            "qpv_resident": True, "rqth": False, "rsa": False, "single_parent": False, "education_level": "4",
            "partner_ref": ref, "identity": {"last_name": f"Nom{nir_tail}", "first_names": "Camille",
                                             "birth_date": "2004-05-0" + nir_tail[-1]}}
    event = {"specversion": "1.0", "id": event_id, "source": source, "type": "fr.ariane.person.registered",
             "subject": ref, "time": "2026-02-03T14:05:00+01:00", "correlationid": corr, "data": data}
    for key, value in over.items():
        if key.startswith("data_"):
            data[key[5:]] = value
        elif value is None:
            event.pop(key)
        else:
            event[key] = value
    return event


def cases() -> list[tuple[str, list[tuple[dict, str]]]]:
    """(name, [(event, expected verdict)]) — sent in order; a verdict is a status or "rejected:<reason>"."""
    u = uuid.uuid4().hex[:8]

    def reg(source: str, eid: str, corr: str, tail: str, **over) -> dict:
        return registration(source, f"{eid}-{u}", f"{corr}-{u}", ref=f"R{tail}-{u}", nir_tail=tail, **over)

    same = reg(ML, "same", "c1", "1")
    first = reg(ML, "conflict", "c2", "2")
    return [
        ("no id: refused, never invented", [(reg(ML, "x", "c0", "0", id=None), "rejected:invalid_event")]),
        ("the same event twice is a duplicate", [(same, "accepted"), (same, "duplicate")]),
        ("another event with the same (source, id) is a conflict",
         [(first, "accepted"), (reg(ML, "conflict", "c3", "3"), "conflict")]),
        ("two structures may use the same id",
         [(reg(ML, "shared", "c4", "4"), "accepted"), (reg(CAP, "shared", "c5", "5"), "accepted")]),
        ("a refused event leaves its id free for the corrected one",
         [(reg(ML, "fixed", "c6", "6", data_registered_on="9999-12-31"), "rejected:implausible_event"),
          (reg(ML, "fixed", "c7", "6"), "accepted")]),
        ("time as a Unix integer", [(reg(ML, "unix", "c8", "8", time=1770123900), "rejected:implausible_event")]),
        ("personal data in a partner file number",
         [(reg(ML, "pii", "c9", "9", data_partner_ref="tel 06 71 82 93 04"), "rejected:personal_data")]),
        ("a registration made by another structure",
         [(reg(ML, "plie", "ca", "7", data_structure_id="plie_angers"), "rejected:forbidden_structure")]),
    ]


async def _over_http(intake, sends: list[dict]) -> list[str]:
    tokens = {s: await intake.key_for(s) for s in (ML, CAP)}
    verdicts = []
    for event in sends:
        response = await intake.post(event, tokens[event["source"]])
        answer = response.json()["results"][0]
        assert response.status_code == {"accepted": 202, "duplicate": 202, "conflict": 409}.get(answer["status"], 422)
        verdicts.append(answer["status"] if answer["status"] != "rejected" else f"rejected:{answer['reason']}")
    return verdicts


async def _over_kafka(intake, sends: list[dict], expected: list[str]) -> list[str]:
    producer = AIOKafkaProducer(bootstrap_servers=intake.bootstrap, **admin_security(intake.bootstrap))
    await producer.start()
    try:
        for event in sends:  # each on its sender's topic; one key: one partition, read in the order sent
            await producer.send_and_wait(intake.prefix + topics.inbound_topic(event["source"]),
                                         json.dumps(event).encode(), key=b"table")
    finally:
        await producer.stop()
    want_published = sum(v == "accepted" for v in expected)
    want_letters = sum(v.startswith(("rejected", "conflict")) for v in expected)
    for _ in range(150):
        published = [json.loads(v) for _, v in await read_topic(intake.bootstrap, intake.prefix + topics.INTAKE)]
        letters = [json.loads(v) for _, v in await read_topic(intake.bootstrap, intake.prefix + topics.DEADLETTER)]
        if len(published) >= want_published and len(letters) >= want_letters:
            break
        await asyncio.sleep(0.2)
    # Each send carries its own correlationid: what was published or dead-lettered for it is its verdict.
    by_corr: dict[str, list[str]] = defaultdict(list)
    for letter in letters:
        reason = letter["reason"].split(":", 1)[0]
        corr = json.loads(letter["original_text"]).get("correlationid")
        by_corr[corr].append("conflict" if reason == "id_conflict" else f"rejected:{reason}")
    for event in published:
        by_corr[event["correlationid"]].append("accepted")
    return [by_corr[e["correlationid"]].pop(0) if by_corr[e["correlationid"]] else "duplicate" for e in sends]


@pytest.mark.parametrize("path", ["http", "kafka"])
async def test_the_same_bytes_get_the_same_verdict_on_both_paths(intake, path):
    table = cases()
    sends = [event for _, steps in table for event, _ in steps]
    expected = [verdict for _, steps in table for _, verdict in steps]
    got = await (_over_http(intake, sends) if path == "http" else _over_kafka(intake, sends, expected))
    names = [name for name, steps in table for _ in steps]
    assert list(zip(names, got)) == list(zip(names, expected))
