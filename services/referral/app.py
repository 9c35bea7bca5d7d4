"""The referral service definition: store, consumed topics, handler, metrics and read API."""

from __future__ import annotations

from pathlib import Path

from contracts import topics
from contracts.territory import load_territory
from services.referral import store
from services.referral.api import router
from services.referral.handlers import ReferralHandler
from services.referral.metrics import ReferralMetrics
from services.referral.settings import ReferralSettings
from services.runtime.service import ServiceContext, ServiceDefinition

VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"


async def bootstrap(ctx: ServiceContext) -> ReferralHandler:
    settings = ReferralSettings()
    territory = load_territory(settings.territory_file)
    ctx.extra["territory"] = territory
    ctx.extra["tokens"] = settings.token_table()
    return ReferralHandler(territory, ReferralMetrics.create(ctx.registry))


DEFINITION = ServiceDefinition(
    name="referral", metadata=store.metadata, tables=store.tables, versions_dir=VERSIONS_DIR, bootstrap=bootstrap,
    consumes=(topics.INTAKE, topics.CLOCK), routers=[router], default_port=8102,
)
