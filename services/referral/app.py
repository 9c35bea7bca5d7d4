"""The referral service as the runtime hosts it: store, consumed topics, handlers, read API, webhook delivery."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from contracts import topics
from contracts.territory import Territory, load_territory
from services.referral import store
from services.referral.api import router
from services.referral.domain.webhook_targets import webhook_targets
from services.referral.handlers import HANDLERS
from services.referral.metrics import ReferralMetrics, WebhookMetrics
from services.referral.settings import ReferralSettings
from services.referral.tasks import webhook_delivery
from services.runtime.credentials import CredentialsBook
from services.runtime.routing import route
from services.runtime.service import ServiceContext, ServiceDefinition, Wiring

VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"
DEFAULT_PORT = 8102


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ReferralDeps:
    settings: ReferralSettings
    territory: Territory
    credentials: CredentialsBook  # who may read the API (the book shared by every service)
    webhook_urls: Mapping[str, str]  # {structure id: URL}, checked: every one can be signed
    metrics: ReferralMetrics | None = None
    now: Callable[[], datetime] = utc_now  # only to date webhook notices (when the first attempt is due)


def definition(settings: ReferralSettings | None = None) -> ServiceDefinition:
    async def start(ctx: ServiceContext) -> Wiring[ReferralDeps]:
        # Read when the service starts, not when it is described: the environment is the one of the process.
        chosen = settings or ReferralSettings()
        territory = load_territory(chosen.territory_file)
        secrets = chosen.webhook_secret_table()
        deps = ReferralDeps(
            settings=chosen, territory=territory, credentials=CredentialsBook(ctx.settings.credentials_path()),
            webhook_urls=webhook_targets(territory, secrets),  # a URL with no secret stops the start-up, named
            metrics=ReferralMetrics.create(ctx.registry))
        delivery = webhook_delivery(
            session_factory=ctx.session_factory, secrets=secrets, policy=chosen.webhook_retry_policy(),
            metrics=WebhookMetrics.create(ctx.registry), timeout_s=chosen.webhook_timeout_s,
            poll_s=chosen.webhook_poll_s, batch=chosen.webhook_batch)
        return Wiring(deps=deps, handler=route(HANDLERS, deps), tasks=[delivery])

    return ServiceDefinition(
        name="referral", default_port=DEFAULT_PORT, metadata=store.metadata, tables=store.tables,
        versions_dir=VERSIONS_DIR, start=start, consumes=(topics.INTAKE, topics.FOLLOWUP, topics.CLOCK), routers=[router])
