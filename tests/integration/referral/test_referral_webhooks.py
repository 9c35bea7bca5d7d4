"""Outbound webhooks on the real broker and a real database, to a real HTTP server on the loopback.

The Mission locale gets a webhook URL in a copy of the territory file; a registration of a young person orients
them there; the partner's server answers as scripted. What it received is checked as a partner would: the
signature with the shared secret, the body against the record published on Kafka.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlmodel import select

from contracts import topics
from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.territory import DEFAULT_TERRITORY_FILE
from contracts.topics import key_for
from services.referral.app import definition
from services.referral.store import WebhookAttemptRow, WebhookDeliveryRow
from services.referral.domain.webhook_targets import WebhookConfigError
from tests.support.kafka import admin_security
from tests.support.services import running_service
from tests.support.services import test_settings as service_settings

ML = "mission_locale_angevine"
SECRET = "ml-webhook-secret"
DEADLINE_S = 30


@dataclass
class Received:
    status: int  # what the server answered
    headers: dict[str, str]
    body: bytes


@dataclass
class PartnerServer:
    """A minimal HTTP/1.1 server: answers each POST with the next status of its script (the last one repeats)."""

    script: list[int]
    received: list[Received] = field(default_factory=list)
    port: int = 0

    async def __aenter__(self) -> "PartnerServer":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.script[min(len(self.received), len(self.script) - 1)]
            self.received.append(Received(status, headers, body))
            writer.write(f"HTTP/1.1 {status} Scripted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ariane/referrals"


def territory_with_webhook(tmp_path, url: str):
    raw = yaml.safe_load(DEFAULT_TERRITORY_FILE.read_text(encoding="utf-8"))
    for structure in raw["structures"]:
        if structure["id"] == ML:
            structure["webhook_url"] = url
    path = tmp_path / "territory.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def young_person_registered() -> PersonRegistered:
    return PersonRegistered(
        id="reg-webhook-1", source="france_travail_angers_centre", subject="p-webhook-1",
        time=datetime(2026, 1, 5, 9, tzinfo=timezone.utc),
        data=PersonRegisteredData(structure_id="france_travail_angers_centre", registered_on=date(2026, 1, 5),
                                  birth_year=2005, commune_insee="49007", qpv_resident=False, rqth=False, rsa=False,
                                  single_parent=False, education_level="3"))


def partner_accepts(r: Received) -> bool:
    """The partner's own check, from the README: HMAC-SHA256 of "<t>.<body>" under the shared secret."""
    fields = dict(part.split("=", 1) for part in r.headers["x-ariane-signature"].split(","))
    mac = hmac.new(SECRET.encode(), fields["t"].encode() + b"." + r.body, hashlib.sha256).hexdigest()
    fresh = abs(int(fields["t"]) - datetime.now(timezone.utc).timestamp()) < 300
    return fresh and hmac.compare_digest(mac, fields["v1"])


async def until(predicate, what: str):
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"waited {DEADLINE_S} s for {what}")
        await asyncio.sleep(0.05)


async def published_referral_records(bootstrap: str, topic: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **admin_security(bootstrap), enable_auto_commit=False,
                                isolation_level="read_committed", auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - the topic was created by the fixture
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        out: list[bytes] = []
        deadline = asyncio.get_running_loop().time() + DEADLINE_S
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            assert asyncio.get_running_loop().time() < deadline, "could not read the referral topic to its end"
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out += [rec.value for rec in records]
        return out
    finally:
        await consumer.stop()


async def run_scenario(script, *, tmp_path, monkeypatch, kafka_bootstrap, topic_prefix, database_url):
    """Register one young person with the partner's server answering `script`; return what happened once the
    notice is finished (delivered or failed)."""
    async with PartnerServer(script) as server:
        monkeypatch.setenv("ARIANE_REFERRAL_TERRITORY_FILE", str(territory_with_webhook(tmp_path, server.url)))
        monkeypatch.setenv("ARIANE_REFERRAL_WEBHOOK_SECRETS", json.dumps({ML: SECRET}))
        monkeypatch.setenv("ARIANE_REFERRAL_WEBHOOK_BASE_DELAY_S", "0.05")
        monkeypatch.setenv("ARIANE_REFERRAL_WEBHOOK_MAX_DELAY_S", "0.2")
        monkeypatch.setenv("ARIANE_REFERRAL_WEBHOOK_POLL_S", "0.02")
        monkeypatch.setenv("ARIANE_REFERRAL_WEBHOOK_TIMEOUT_S", "5")
        settings = service_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                                    topic_prefix=topic_prefix)
        async with running_service(definition(), settings) as (app, client):
            producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap), enable_idempotence=True)
            await producer.start()
            try:
                event = young_person_registered()
                await producer.send_and_wait(topic_prefix + topics.INTAKE, event.to_json_bytes(),
                                             key=key_for(event.subject))
            finally:
                await producer.stop()
            sessions = app.state.ctx.session_factory

            async def finished() -> list[WebhookDeliveryRow]:
                async with sessions() as session:
                    rows = list((await session.exec(select(WebhookDeliveryRow))).all())
                return rows if rows and all(r.status != "pending" for r in rows) else []

            deliveries = await until(finished, "the webhook notice to be delivered or failed")
            async with sessions() as session:
                attempts = list((await session.exec(select(WebhookAttemptRow).order_by(WebhookAttemptRow.attempt)))
                                .all())
            metrics = (await client.get("/metrics")).text
        published = await published_referral_records(kafka_bootstrap, topic_prefix + topics.REFERRAL)
    return server.received, deliveries, attempts, metrics, published


async def test_a_notice_is_retried_until_the_partner_accepts_it(tmp_path, monkeypatch, kafka_bootstrap,
                                                                topic_prefix, database_url) -> None:
    received, deliveries, attempts, metrics, published = await run_scenario(
        [503, 503, 200], tmp_path=tmp_path, monkeypatch=monkeypatch, kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix, database_url=database_url)

    # One referral.issued to the Mission locale, on Kafka and by webhook: the very same bytes.
    assert len(published) == 1 and json.loads(published[0])["type"].endswith("referral.issued")
    event = json.loads(published[0])
    assert event["data"]["to_structure"] == ML
    assert [r.status for r in received] == [503, 503, 200]
    accepted = [r for r in received if r.status == 200]
    assert len(accepted) == 1  # received exactly once
    assert all(r.body == published[0] for r in received)
    assert all(partner_accepts(r) for r in received)
    assert {r.headers["x-ariane-event-id"] for r in received} == {event["id"]}
    assert accepted[0].headers["content-type"].startswith("application/cloudevents+json")

    [delivery] = deliveries
    assert (delivery.event_id, delivery.structure_id, delivery.status, delivery.attempts) == (
        event["id"], ML, "delivered", 3)
    assert [(a.attempt, a.status_code, a.verdict) for a in attempts] == [
        (1, 503, "retry"), (2, 503, "retry"), (3, 200, "delivered")]
    assert all(a.event_id == event["id"] and a.duration_ms >= 0 for a in attempts)
    # Spaced by the back-off: at least half the scheduled delay (0.05 s, then 0.1 s) between attempts.
    gaps = [(b.started_at - a.started_at).total_seconds() for a, b in zip(attempts, attempts[1:])]
    assert gaps[0] >= 0.025 and gaps[1] >= 0.05, gaps
    assert f'ariane_referral_webhook_deliveries_total{{outcome="delivered",structure="{ML}"}} 1.0' in metrics
    assert f'ariane_referral_webhook_attempts_total{{structure="{ML}",verdict="retry"}} 2.0' in metrics
    assert f'ariane_referral_webhook_attempt_seconds_count{{structure="{ML}"}} 3.0' in metrics


async def test_a_notice_the_partner_rejects_as_wrong_fails_at_once(tmp_path, monkeypatch, kafka_bootstrap,
                                                                   topic_prefix, database_url) -> None:
    received, deliveries, attempts, metrics, published = await run_scenario(
        [400], tmp_path=tmp_path, monkeypatch=monkeypatch, kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix, database_url=database_url)

    [delivery] = deliveries
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 400)
    assert delivery.next_attempt_at is None and delivery.finished_at is not None
    assert [(a.attempt, a.status_code, a.verdict) for a in attempts] == [(1, 400, "failed")]
    assert [r.status for r in received] == [400]
    assert received[0].body == published[0] and partner_accepts(received[0])
    assert f'ariane_referral_webhook_deliveries_total{{outcome="failed",structure="{ML}"}} 1.0' in metrics


async def test_a_webhook_url_without_a_secret_stops_the_start_up(tmp_path, monkeypatch, kafka_bootstrap,
                                                                 topic_prefix, database_url) -> None:
    monkeypatch.setenv("ARIANE_REFERRAL_TERRITORY_FILE",
                       str(territory_with_webhook(tmp_path, "http://127.0.0.1:9/ariane/referrals")))
    monkeypatch.setenv("ARIANE_REFERRAL_WEBHOOK_SECRETS", json.dumps({"cap_emploi_49": "not the right one"}))
    settings = service_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix)
    with pytest.raises(WebhookConfigError, match=f"'{ML}' has a webhook_url but no secret"):
        async with running_service(definition(), settings, ready_timeout=20):
            pass
