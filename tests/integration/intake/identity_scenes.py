"""What the identity tests share: the people (planted identities no record may carry), keys of every role,
a partner's prescription, and reading intake's topic until the events a test waits for are there."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from intake_harness import RunningIntake, intake_topic, read_topic, registration

from contracts import topics
from tests.support.kafka import admin_security

ML, FT, CAP = "mission_locale_angevine", "france_travail_angers_est", "cap_emploi_49"
COORDINATOR, TERRITORY = "coordination_territoriale", "angers-loire-metropole"

# Identities planted in the vault: none of these values may appear in any record of ariane.intake.v1.
LINA = {"nir": "2 03 11 49 007 318 42", "last_name": "Vasconcelos-Pirès", "first_names": "Lina Maëlys",
        "birth_date": "2003-11-08", "email": "lina.vp@example.org", "phone": "06 44 12 87 30"}
YANIS_ML = {"last_name": "Benali", "first_names": "Yanis", "birth_date": "2004-07-19"}
YANIS_FT = {"last_name": "Ben Ali", "first_names": "Yanis", "birth_date": "2004-07-19"}
NOAH_ML = {"last_name": "Quéméner", "first_names": "Noah", "birth_date": "1999-02-11"}
NOAH_CAP = {"last_name": "Quemeneur", "first_names": "Noah", "birth_date": "1999-02-11"}
PEOPLE = (LINA, YANIS_ML, YANIS_FT, NOAH_ML, NOAH_CAP)


def planted() -> set[str]:
    out: set[str] = set()
    for person in PEOPLE:
        for field in ("nir", "last_name", "first_names", "email", "phone"):
            if person.get(field):
                out |= {person[field], person[field].replace(" ", "")}
    return out


def prescription(source: str, person_id: str, to_structure: str) -> dict:
    """A partner's referral (prescription) of a person to another structure, sent through intake."""
    return {"specversion": "1.0", "id": f"evt-{uuid.uuid4()}", "source": source, "type": "fr.ariane.referral.issued",
            "subject": person_id, "time": "2025-02-04T10:00:00+01:00",
            # Twelve hex digits, not ten: ten that all came out decimal, starting 0 then 1-9, read as a French phone
            # number, and intake rightly refused the event as personal data (it happened once in CI).
            "data": {"referral_id": f"ref-{uuid.uuid4().hex[:12]}", "kind": "prescription", "from_structure": source,
                     "to_structure": to_structure, "reason": "accompagnement jeune", "due_date": "2025-02-18"}}


class Keys:
    """Keys of every role, entered in the test's credentials book as `ariane structures` would."""

    def __init__(self, intake: RunningIntake) -> None:
        self.intake = intake

    async def partner(self, structure: str) -> str:
        return self.intake.book.record(await self.intake.key_for(structure), "partner", structure).token

    def counsellor(self, structure: str) -> str:
        return self.intake.book.issue("counsellor", structure, counsellor="c-042").token

    def coordinator(self) -> str:
        return self.intake.book.issue("coordinator", COORDINATOR).token

    def auditor(self) -> str:
        return self.intake.book.issue("auditor", TERRITORY).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(intake: RunningIntake, token: str, source: str, identity: dict, **kw: Any) -> str:
    answer = await intake.post(registration(source, identity=identity, **kw), token)
    assert answer.status_code == 202, answer.text
    return answer.json()["results"][0]["person_id"]


async def reveal(intake: RunningIntake, token: str, person_id: str, reason: Any = "rappeler la personne") -> Any:
    body = {} if reason is None else {"reason": reason}
    return await intake.client.post(f"/v1/people/{person_id}/identity", json=body, headers=bearer(token))


async def intake_events(intake: RunningIntake) -> list[dict]:
    return [json.loads(value) for _key, value in await read_topic(intake.bootstrap, intake_topic(intake.prefix))]


async def wait_for_events(intake: RunningIntake, done: Callable[[list[dict]], bool], timeout: float = 30) -> list[dict]:
    """Intake's topic once `done(events)` holds (the relay publishes after the commit, not within it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        events = await intake_events(intake)
        if done(events):
            return events
        assert asyncio.get_running_loop().time() < deadline, f"never came: {[e['type'] for e in events]}"
        await asyncio.sleep(0.2)


def of_type(events: list[dict], short_type: str) -> list[dict]:
    return [e for e in events if e["type"] == f"fr.ariane.{short_type}"]


async def assert_nothing_planted_on_the_topics(intake: RunningIntake) -> None:
    """No planted name, NIR, e-mail or phone in any record of intake's topic nor of the dead letters."""
    for topic in (topics.INTAKE, topics.DEADLETTER):
        for key, value in await read_topic(intake.bootstrap, intake.prefix + topic):
            text = ((key or b"") + b" " + value).decode("utf-8", "replace").casefold()
            for secret in planted():
                assert secret.casefold() not in text, f"{secret!r} leaked into {topic}"


async def records_of_every_topic(intake: RunningIntake) -> dict[str, list[tuple[bytes | None, bytes]]]:
    """Every committed record of every topic of this test (its prefix), dead letters and partners' topics
    included: what any principal allowed to read them could read. One consumer reads them all."""
    consumer = AIOKafkaConsumer(bootstrap_servers=intake.bootstrap, **admin_security(intake.bootstrap),
                                isolation_level="read_committed", enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        names = sorted(t for t in await consumer.topics() if t.startswith(intake.prefix))
        await consumer._client.force_metadata_update()  # noqa: SLF001 - the partitions of every topic
        partitions = [TopicPartition(name, p) for name in names for p in consumer.partitions_for_topic(name) or ()]
        assert partitions, names
        out: dict[str, list[tuple[bytes | None, bytes]]] = {name: [] for name in names}
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        for _ in range(600):
            if all([await consumer.position(tp) >= ends[tp] for tp in partitions]):
                return out
            for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                out[tp.topic] += [(r.key, r.value) for r in records]
        raise AssertionError("the topics were not read to their end")
    finally:
        await consumer.stop()


async def assert_on_no_topic(intake: RunningIntake, *secrets: str) -> None:
    """None of `secrets` (file numbers) in any key or value of any record of any topic."""
    everything = await records_of_every_topic(intake)
    assert everything.get(intake.prefix + topics.INTAKE), sorted(everything)  # the scan reads what is there
    for name, records in everything.items():
        for key, value in records:
            text = (key or b"") + b" " + value
            for secret in secrets:
                assert secret.encode() not in text, f"{secret!r} is on {name}"
