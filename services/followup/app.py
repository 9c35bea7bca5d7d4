"""The followup service definition: tables, consumed topics, bootstrap, HTTP routes."""

from __future__ import annotations

from pathlib import Path

from contracts import topics
from contracts.territory import load_territory
from services.followup.domain import Rules
from services.followup.handlers import FollowupHandler
from services.followup.metrics import FollowupMetrics
from services.followup.settings import FollowupSettings
from services.followup.store import metadata, tables
from services.followup.worklist import router
from services.runtime.service import ServiceContext, ServiceDefinition

VERSIONS = Path(__file__).with_name("migrations") / "versions"


async def bootstrap(ctx: ServiceContext, settings: FollowupSettings | None = None) -> FollowupHandler:
    settings = settings or FollowupSettings()
    rules = Rules.of(load_territory(settings.territory_file))
    handler = FollowupHandler(rules, FollowupMetrics.create(ctx.registry))
    ctx.extra.update(rules=rules, handler=handler, followup_settings=settings)
    return handler


DEFINITION = ServiceDefinition(
    name="followup", metadata=metadata, tables=tables, versions_dir=VERSIONS, bootstrap=bootstrap,
    consumes=(topics.INTAKE, topics.REFERRAL, topics.CLOCK), routers=[router], default_port=8103,
)
