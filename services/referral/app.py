"""The referral service definition: store, consumed topics, handler, metrics, read API and webhook delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from contracts import topics
from contracts.territory import load_territory
from services.referral import store
from services.referral.api import router
from services.referral.handlers import ReferralHandler
from services.referral.metrics import ReferralMetrics, WebhookMetrics
from services.referral.settings import ReferralSettings
from services.referral.webhook_delivery import WebhookDelivery
from services.referral.webhooks import webhook_targets
from services.runtime.service import ServiceContext, ServiceDefinition

VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"


async def bootstrap(ctx: ServiceContext) -> ReferralHandler:
    settings = ReferralSettings()
    territory = load_territory(settings.territory_file)
    secrets = settings.webhook_secret_table()
    targets = webhook_targets(territory, secrets)  # a URL with no secret stops the start-up here, named
    ctx.extra["territory"] = territory
    ctx.extra["tokens"] = settings.token_table()
    delivery = WebhookDelivery(
        session_factory=ctx.session_factory, secrets=secrets, policy=settings.webhook_retry_policy(),
        metrics=WebhookMetrics.create(ctx.registry), timeout_s=settings.webhook_timeout_s,
        poll_s=settings.webhook_poll_s, batch=settings.webhook_batch)
    # Always running, even with no URL configured now: notices queued before a configuration change still
    # have to be delivered or failed, never left pending.
    delivery.start(ctx.stop)
    ctx.extra["webhooks"] = delivery
    return ReferralHandler(territory, ReferralMetrics.create(ctx.registry), webhook_urls=targets)


@asynccontextmanager
async def _stop_webhooks_first(app: FastAPI) -> AsyncIterator[None]:
    """Nested inside the host's lifespan: on shutdown the delivery loop ends (and its last attempts are
    recorded) before the host disposes of the database engine."""
    yield
    delivery: WebhookDelivery | None = getattr(app.state, "ctx", None) and app.state.ctx.extra.get("webhooks")
    if delivery is not None:
        await delivery.close()


webhook_lifetime = APIRouter(lifespan=_stop_webhooks_first)

DEFINITION = ServiceDefinition(
    name="referral", metadata=store.metadata, tables=store.tables, versions_dir=VERSIONS_DIR, bootstrap=bootstrap,
    consumes=(topics.INTAKE, topics.CLOCK), routers=[router, webhook_lifetime], default_port=8102,
)
