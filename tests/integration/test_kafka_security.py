"""The local broker authenticates every client and lets each principal do only what its ACLs say.

Seen from a client's side: who can connect, who can write where, and that a service still runs its
transactional relay and its consumer group under its own principal.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from aiokafka.structs import OffsetAndMetadata

from contracts import topics
from local.kafka import create_topics
from services.runtime.kafka_security import Credentials, read_credentials

# A guard against a hang, not a measurement: every step here answers in well under a second.
GUARD_S = 30


@pytest.fixture
def credentials(local_kafka):  # noqa: ANN001, ANN201
    if local_kafka is None:
        pytest.skip("KAFKA_BOOTSTRAP names a broker whose principals this suite does not know")

    def of(principal: str) -> Credentials:
        found = read_credentials(local_kafka.credentials_dir / f"{principal}.json")
        assert found is not None, principal
        return found

    return of


def _as(credentials: Credentials) -> dict:
    return credentials.client_kwargs()


async def _produce(bootstrap: str, topic: str, security: dict, **kwargs) -> None:  # noqa: ANN003
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000, **security, **kwargs)
    await asyncio.wait_for(producer.start(), GUARD_S)
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"{}", key=b"k"), GUARD_S)
    finally:
        await producer.stop()


async def test_a_client_without_credentials_cannot_connect(kafka_bootstrap, topic_prefix):  # noqa: ANN001
    with pytest.raises((KafkaError, OSError)):
        await _produce(kafka_bootstrap, topic_prefix + topics.inbound_topic("plie_angers"), {})


async def test_a_wrong_password_is_refused(kafka_bootstrap, topic_prefix, credentials):  # noqa: ANN001
    intake = credentials("intake")
    wrong = Credentials(intake.username, intake.password + "x")
    with pytest.raises((KafkaError, OSError)):
        await _produce(kafka_bootstrap, topic_prefix + topics.INTAKE, _as(wrong))


async def test_the_controller_port_refuses_a_client(local_kafka, credentials):  # noqa: ANN001
    admin = credentials("admin")  # even the admin's client credentials do not open the controller listener
    for security in ({}, _as(admin)):
        producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{local_kafka.controller_port}",
                                    request_timeout_ms=5000, **security)
        with pytest.raises((KafkaError, OSError)):
            await asyncio.wait_for(producer.start(), GUARD_S)
        await producer.stop()


async def test_a_service_writes_its_own_topic_and_no_other(kafka_bootstrap, topic_prefix, credentials):  # noqa: ANN001
    referral = _as(credentials("referral"))
    await _produce(kafka_bootstrap, topic_prefix + topics.REFERRAL, referral, enable_idempotence=True)
    for other in (topics.INTAKE, topics.FOLLOWUP, topics.CLOCK, topics.inbound_topic("plie_angers")):
        with pytest.raises(KafkaError):
            await _produce(kafka_bootstrap, topic_prefix + other, referral)


async def test_a_service_reaches_nothing_of_another_prefix(kafka_bootstrap, topic_prefix, credentials):  # noqa: ANN001
    with pytest.raises(KafkaError):  # its own topic, but in a namespace no ACL was granted for
        await _produce(kafka_bootstrap, f"other-{uuid.uuid4().hex[:6]}." + topics.REFERRAL, _as(credentials("referral")))


async def test_a_partner_writes_its_own_topic_only(kafka_bootstrap, topic_prefix, credentials):  # noqa: ANN001
    partner = _as(credentials("partner-plie_angers"))
    await _produce(kafka_bootstrap, topic_prefix + topics.inbound_topic("plie_angers"), partner,
                   enable_idempotence=True)
    for service_topic in (topics.INTAKE, topics.REFERRAL, topics.FOLLOWUP, topics.CLOCK, topics.DEADLETTER):
        with pytest.raises(KafkaError):
            await _produce(kafka_bootstrap, topic_prefix + service_topic, partner)


async def test_a_partner_cannot_write_another_partners_records(kafka_bootstrap, topic_prefix,  # noqa: ANN001
                                                               credentials):
    """The PLIE's principal is refused by the broker on the Mission locale's topic: what is read there was
    written by the Mission locale."""
    plie = _as(credentials("partner-plie_angers"))
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(kafka_bootstrap, topic_prefix + topics.inbound_topic("mission_locale_angevine"), plie)


async def test_no_partner_may_write_the_old_shared_inbound_topic(kafka_bootstrap, topic_prefix,  # noqa: ANN001
                                                                 credentials):
    """ariane.inbound.v1 could not tell who wrote a record: it is no longer created, and where a broker still
    holds it (here created as an earlier version did), no partner is allowed to write it."""
    shared = topic_prefix + topics.INBOUND
    await create_topics(kafka_bootstrap, {shared: 1})
    for partner in ("partner-plie_angers", "partner-mission_locale_angevine"):
        with pytest.raises(TopicAuthorizationFailedError):
            await _produce(kafka_bootstrap, shared, _as(credentials(partner)))


async def test_a_partner_reads_nothing(kafka_bootstrap, topic_prefix, credentials):  # noqa: ANN001
    consumer = AIOKafkaConsumer(topic_prefix + topics.INTAKE, bootstrap_servers=kafka_bootstrap,
                                group_id=f"{topic_prefix}ariane-intake", request_timeout_ms=5000,
                                **_as(credentials("partner-plie_angers")))
    with pytest.raises(KafkaError):
        await asyncio.wait_for(consumer.start(), GUARD_S)
        await asyncio.wait_for(consumer.getmany(timeout_ms=2000), GUARD_S)
    await consumer.stop()


async def test_a_service_runs_its_relay_transaction_and_consumes(kafka_bootstrap, topic_prefix, credentials):  # noqa: ANN001
    intake = _as(credentials("intake"))
    relay = f"{topic_prefix}ariane-relay-intake"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=relay, enable_idempotence=True,
                                **intake)
    await asyncio.wait_for(producer.start(), GUARD_S)
    value = uuid.uuid4().hex.encode()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic_prefix + topics.INTAKE, value, key=b"p")
            # the relay's high-water mark, committed as the relay group's offset on the dead-letter partition 0
            await producer.send_offsets_to_transaction(
                {TopicPartition(topic_prefix + topics.DEADLETTER, 0): OffsetAndMetadata(7, "")}, relay)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topic_prefix + topics.INTAKE, bootstrap_servers=kafka_bootstrap,
                                group_id=f"{topic_prefix}ariane-referral", isolation_level="read_committed",
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                **_as(credentials("referral")))
    await asyncio.wait_for(consumer.start(), GUARD_S)
    try:
        seen: list[bytes] = []
        while value not in seen:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=500), GUARD_S)
            seen += [r.value for records in batch.values() for r in records]
        await consumer.commit()
    finally:
        await consumer.stop()

    marker = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=relay, enable_auto_commit=False, **intake)
    await marker.start()
    try:
        assert await marker.committed(TopicPartition(topic_prefix + topics.DEADLETTER, 0)) == 7
    finally:
        await marker.stop()


async def test_a_service_cannot_take_another_services_transactional_id(kafka_bootstrap, topic_prefix,  # noqa: ANN001
                                                                      credentials):
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=f"{topic_prefix}ariane-relay-referral",
                                enable_idempotence=True, request_timeout_ms=5000, **_as(credentials("intake")))
    with pytest.raises(KafkaError):
        await asyncio.wait_for(producer.start(), GUARD_S)
    await producer.stop()


async def test_a_service_cannot_join_another_services_group(kafka_bootstrap, topic_prefix, credentials):  # noqa: ANN001
    consumer = AIOKafkaConsumer(topic_prefix + topics.INTAKE, bootstrap_servers=kafka_bootstrap,
                                group_id=f"{topic_prefix}ariane-followup", request_timeout_ms=5000,
                                **_as(credentials("referral")))
    with pytest.raises(KafkaError):
        await asyncio.wait_for(consumer.start(), GUARD_S)
        await asyncio.wait_for(consumer.getmany(timeout_ms=2000), GUARD_S)
    await consumer.stop()


def test_the_credential_files_are_the_owners_alone(local_kafka):  # noqa: ANN001
    if local_kafka is None:
        pytest.skip("no local broker")
    assert local_kafka.credentials_dir.stat().st_mode & 0o077 == 0
    for path in [*local_kafka.credentials_dir.iterdir(), local_kafka.config_path]:
        assert path.stat().st_mode & 0o077 == 0, path
