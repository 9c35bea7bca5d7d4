"""The FastStream Kafka broker for code that only publishes (the clock, tools), set up the Ariane way.

Idempotent producer with acks from every in-sync replica, FastStream's Prometheus middleware on the caller's
registry, and structlog as its logger. Consumers do not use it: they are the runtime's own loop (consumer.py),
because a batch, its database transaction and the offset commit must be one sequence under our control, which
FastStream's subscribers do not offer (no Kafka transactions, acknowledgement per message).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from contracts.envelope import Envelope
from contracts.topics import key_for
from services.runtime.kafka_security import client_security, faststream_security


def make_broker(bootstrap: str, *, service: str, registry: CollectorRegistry | None = None,
                principal: str | None = None) -> KafkaBroker:
    """``principal``: who the broker authenticates as (kafka_security); unset, the service itself."""
    middlewares = [KafkaPrometheusMiddleware(registry=registry, app_name=service)] if registry is not None else []
    return KafkaBroker(
        bootstrap,
        client_id=f"ariane-{service}",
        security=faststream_security(client_security(bootstrap, principal or service)),
        enable_idempotence=True,
        acks="all",
        middlewares=middlewares,
        logger=structlog.get_logger(f"ariane.{service}.broker"),
    )


@asynccontextmanager
async def connected_broker(bootstrap: str, *, service: str, registry: CollectorRegistry | None = None,
                           principal: str | None = None) -> AsyncIterator[KafkaBroker]:
    broker = make_broker(bootstrap, service=service, registry=registry, principal=principal)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def publish(broker: KafkaBroker, event: Envelope, topic: str) -> None:
    """Publish one contract event keyed by its subject, and wait until the broker has it."""
    await broker.publish(event.to_json_bytes(), topic, key=key_for(event.subject),
                         headers={"ce_type": event.type, "ce_id": event.id})
