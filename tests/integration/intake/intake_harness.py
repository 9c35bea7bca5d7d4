"""What the intake tests share besides fixtures: intake running in-process (RunningIntake) and its settings,
events to feed it, its topics' names, and reading a topic back to its end.

A plain module, not conftest.py: tests import it by a name no other directory of tests/ uses, so suites of
several directories can be collected in one run (every conftest.py there would be the module "conftest")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from services.intake.settings import IntakeSettings
from services.intake.store import credentials
from services.runtime.credentials import CredentialsBook
from services.runtime.service import ServiceContext
from tests.support.kafka import admin_security

SECRET = "territory-secret-for-tests-0123456789"
MASTER = "master-key-for-tests-0123456789"


@dataclass
class RunningIntake:
    ctx: ServiceContext
    client: httpx.AsyncClient
    prefix: str
    bootstrap: str
    book: CredentialsBook | None = None  # the credentials book intake checks keys against (this test's own)

    async def key_for(self, structure_id: str) -> str:
        async with self.ctx.session_factory() as session, session.begin():
            return (await credentials.add_key(session, self.ctx.deps.vault, structure_id)).token

    async def post(self, body: Any, token: str, **kw: Any) -> httpx.Response:
        return await self.client.post("/v1/events", json=body, headers={"Authorization": f"Bearer {token}"}, **kw)


def intake_settings(**overrides: Any) -> IntakeSettings:
    values: dict[str, Any] = {"territory_secret": SECRET, "master_key": MASTER, "publish_timeout_s": 20.0}
    values.update(overrides)
    return IntakeSettings(**values)


async def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every committed record of a topic, from the beginning to its current end (read_committed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **admin_security(bootstrap), isolation_level="read_committed",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic)
                                                          or await _partitions(consumer, topic))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        out: list[tuple[bytes | None, bytes]] = []
        for _ in range(200):
            positions = [await consumer.position(tp) for tp in partitions]
            if all(pos >= ends[tp] for pos, tp in zip(positions, partitions)):
                break
            batches = await consumer.getmany(timeout_ms=200)
            out += [(r.key, r.value) for recs in batches.values() for r in recs]
        return out
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 - first look at a topic
    return consumer.partitions_for_topic(topic) or set()


def registration(source: str = "mission_locale_angevine", *, ref: str | None = None,
                 identity: dict | None = None, event_id: str | None = None) -> dict:
    ref = ref or f"REF-{uuid.uuid4().hex[:8]}"
    data: dict[str, Any] = {
        "structure_id": source, "registered_on": "2025-02-03", "birth_year": 2004, "commune_insee": "49007",
        "qpv_resident": True, "rqth": False, "rsa": False, "single_parent": False, "education_level": "4",
        "partner_ref": ref,
    }
    if identity is not None:
        data["identity"] = identity
    return {"specversion": "1.0", "id": event_id or f"evt-{uuid.uuid4()}", "source": source,
            "type": "fr.ariane.person.registered", "subject": ref, "time": "2025-02-03T14:05:00+01:00",
            "data": data}


def contact(source: str, subject: str, event_id: str | None = None) -> dict:
    return {"specversion": "1.0", "id": event_id or f"evt-{uuid.uuid4()}", "source": source,
            "type": "fr.ariane.contact.recorded", "subject": subject, "time": "2025-02-10T09:00:00+01:00",
            "data": {"structure_id": source, "channel": "phone", "reached": True}}


def intake_topic(prefix: str) -> str:
    return prefix + topics.INTAKE


def partner_topic(prefix: str, structure_id: str) -> str:
    """The inbound topic of one partner: only it may write there, and intake takes it as the sender."""
    return prefix + topics.inbound_topic(structure_id)
