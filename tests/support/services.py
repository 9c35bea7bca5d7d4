"""Run a service in-process for a test: its real lifespan (migrations, consumer, relay) and its ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.runtime.kafka_security import ADMIN, KafkaSecurityError, client_security
from services.runtime.service import ServiceDefinition, create_app
from services.runtime.settings import RuntimeSettings


# Not a test, despite its name.
def test_settings(*, kafka_bootstrap: str, database_url: str, topic_prefix: str, **overrides) -> RuntimeSettings:
    return RuntimeSettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix,
                           log_json=True, consumer_poll_ms=50, relay_idle_s=0.01, retry_base_delay_s=0.01,
                           **overrides)


@asynccontextmanager
async def running_service(defn: ServiceDefinition, settings: RuntimeSettings,
                          ready_timeout: float = 60) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Start the service's lifespan, wait until its consumer has joined, yield (app, http client).

    A real service runs as its own Kafka principal; a test double, which has none, as the admin."""
    if settings.kafka_principal is None:
        try:
            client_security(settings.bootstrap(), defn.name, settings)
        except KafkaSecurityError:
            settings = settings.model_copy(update={"kafka_principal": ADMIN})
    app = create_app(defn, settings)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.ctx.consumer_ready.wait(), ready_timeout)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
            yield app, client


test_settings.__test__ = False  # a settings factory, not a test, whatever pytest thinks of its name
