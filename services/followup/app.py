"""The followup service: its definition for the runtime host, and the typed dependencies its parts share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from contracts import topics
from contracts.territory import Territory, load_territory
from services.followup.domain import Rules
from services.followup.handlers import HANDLERS
from services.followup.metrics import FollowupMetrics
from services.followup.settings import FollowupSettings
from services.followup.store import metadata, tables
from services.followup.tasks import tasks
from services.runtime.credentials import CredentialsBook
from services.runtime.routing import route
from services.runtime.service import ServiceContext, ServiceDefinition, Wiring

VERSIONS = Path(__file__).with_name("migrations") / "versions"


@dataclass(frozen=True)
class FollowupDeps:
    settings: FollowupSettings
    territory: Territory
    rules: Rules  # the territory's thresholds, coordinator and time zone, as the domain reads them
    metrics: FollowupMetrics
    credentials: CredentialsBook  # who may read what (the book every service shares)
    session_factory: async_sessionmaker  # for the read API; handlers get their unit of work from the consumer


def definition(settings: FollowupSettings | None = None) -> ServiceDefinition:
    # api.py names FollowupDeps in its routes' signatures, so it is imported once this module is complete.
    from services.followup.api import router

    async def start(ctx: ServiceContext) -> Wiring[FollowupDeps]:
        own = settings or FollowupSettings()
        territory = load_territory(own.territory_file)
        rules = Rules.of(territory, own.referral_answer_wait_days, own.fact_wait_days)
        deps = FollowupDeps(settings=own, territory=territory, rules=rules,
                            metrics=FollowupMetrics.create(ctx.registry),
                            credentials=CredentialsBook(ctx.settings.credentials_path()),
                            session_factory=ctx.session_factory)
        return Wiring(deps=deps, handler=route(HANDLERS, deps), tasks=tasks(deps))

    return ServiceDefinition(
        name="followup", default_port=8103, metadata=metadata, tables=tables, versions_dir=VERSIONS, start=start,
        consumes=(topics.INTAKE, topics.REFERRAL, topics.CLOCK), routers=[router],
    )
