"""The reporting service: consumes every topic into the projection, serves reports, digests and metrics."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from contracts import topics
from contracts.territory import Territory, load_territory
from services.reporting.api import router
from services.reporting.domain.calendar import zone_of
from services.reporting.handlers import HANDLERS
from services.reporting.metrics import ReportCollector
from services.reporting.settings import ReportingSettings
from services.reporting.store.schema import SERVICE, VERSIONS_DIR, metadata, tables
from services.reporting.tasks import refresh_metrics
from services.runtime.credentials import CredentialsBook
from services.runtime.routing import route
from services.runtime.service import ServiceContext, ServiceDefinition, Wiring
from services.runtime.settings import RuntimeSettings

CONSUMES = (topics.INTAKE, topics.REFERRAL, topics.FOLLOWUP, topics.CLOCK)
DEFAULT_PORT = 8104


@dataclass(frozen=True)
class ReportingDeps:
    settings: ReportingSettings
    territory: Territory
    zone: ZoneInfo  # the territory's: business days of events, the "as of" cut
    metrics: ReportCollector
    credentials: CredentialsBook  # who may read the report (the book shared by every service)

    @classmethod
    def of(cls, settings: ReportingSettings, credentials: CredentialsBook | None = None) -> ReportingDeps:
        """Without `credentials`, the book where the environment says (the handlers' tests never read it)."""
        credentials = credentials or CredentialsBook(RuntimeSettings().credentials_path())
        territory = load_territory(settings.territory_file)
        known = frozenset(s.id for s in territory.structures) | frozenset(d.id for d in territory.dispositifs)
        return cls(settings, territory, zone_of(territory), ReportCollector(known), credentials)


def definition(settings: ReportingSettings | None = None) -> ServiceDefinition:
    async def start(ctx: ServiceContext) -> Wiring[ReportingDeps]:
        own = settings or ReportingSettings()
        deps = ReportingDeps.of(own, CredentialsBook(ctx.settings.credentials_path()))
        ctx.registry.register(deps.metrics)
        # The metrics' rounds only read: on the read engine they never queue for the write lock behind a
        # consumed batch, nor hold it (a SQLite transaction of the write engine begins IMMEDIATE) while the
        # consumer waits. A context without one (an in-process tool's) reads through the one engine it has.
        reads = getattr(ctx, "read_engine", None) or ctx.engine
        return Wiring(deps=deps, handler=route(HANDLERS, deps),
                      tasks=[refresh_metrics(reads, deps.metrics, deps.territory.id, own.metrics_refresh_s)])

    return ServiceDefinition(name=SERVICE, default_port=DEFAULT_PORT, metadata=metadata, tables=tables,
                             versions_dir=VERSIONS_DIR, start=start, consumes=CONSUMES, routers=[router])
