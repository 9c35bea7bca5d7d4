"""The clock service: one clock.day_started per day of the territory, hosted by the runtime for /health and
/metrics. It consumes nothing and keeps no table of its own."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.topics import CLOCK
from contracts.territory import load_territory
from services.clock.settings import ClockSettings
from services.clock.tasks import tasks
from services.runtime.service import ServiceContext, ServiceDefinition, Wiring
from services.runtime.tables import runtime_tables

# The host gives every service an inbox and an outbox; the clock uses neither, and having no table of its
# own it needs no migration: the host creates these two directly.
metadata = MetaData()
tables = runtime_tables(metadata, "clock")


@dataclass(frozen=True)
class ClockDeps:
    settings: ClockSettings
    zone: ZoneInfo  # the territory's time zone: when a day starts
    bootstrap: str  # the Kafka broker
    topic: str  # the physical clock topic
    engine: AsyncEngine  # only to hold the clock's lease: one instance ticks


def definition(settings: ClockSettings | None = None) -> ServiceDefinition:
    async def start(ctx: ServiceContext) -> Wiring[ClockDeps]:
        own = settings or ClockSettings()
        territory = load_territory(own.territory_file)
        deps = ClockDeps(own, ZoneInfo(territory.timezone), ctx.bootstrap_servers, ctx.settings.topic(CLOCK),
                         ctx.engine)
        return Wiring(deps=deps, tasks=tasks(deps))

    return ServiceDefinition(name="clock", default_port=8105, metadata=metadata, tables=tables, versions_dir=None,
                             start=start)
