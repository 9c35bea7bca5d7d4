"""The web page: its definition for the stateless host, and the typed dependencies its routes share.

It consumes no topic and keeps no table: everything it shows comes from followup and reporting, everything it
records goes to intake, each call made with the signed-in user's own key.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from contracts.territory import load_territory
from services.runtime.stateless import StatelessContext, StatelessDefinition, StatelessWiring
from services.web.metrics import WebMetrics
from services.web.sessions import Sessions
from services.web.settings import WebSettings
from services.web.upstream import Upstream


@dataclass(frozen=True)
class WebDeps:
    settings: WebSettings
    upstream: Upstream
    sessions: Sessions
    names: dict[str, str]  # structure id -> its name in the territory file, for people to read
    structures: dict[str, str]  # the territory's structures only (no coordinator): who may take a caseload over
    zone: ZoneInfo  # the territory's: a check-in answered now is dated in it
    metrics: WebMetrics


def definition(settings: WebSettings | None = None) -> StatelessDefinition:
    # api.py names WebDeps in its routes' signatures, so it is imported once this module is complete.
    from services.web.api import router
    from services.web.reviews import router as reviews_router
    from services.web.transfers import router as transfers_router

    async def start(ctx: StatelessContext) -> StatelessWiring[WebDeps]:
        own = settings or WebSettings()
        territory = load_territory(own.territory_file)
        structures = {s.id: s.name for s in territory.structures}
        names = {**structures, territory.coordinator.id: "Coordination du territoire"}
        upstream = Upstream(own.followup_url, own.intake_url, own.reporting_url, own.upstream_timeout_s)
        deps = WebDeps(own, upstream, Sessions(own.session_idle_s, own.max_sessions), names, structures,
                       ZoneInfo(territory.timezone), WebMetrics.create(ctx.registry))
        return StatelessWiring(deps=deps, upstreams=upstream.reachable, close=upstream.close)

    return StatelessDefinition(name="web", default_port=8106, start=start,
                               routers=[router, transfers_router, reviews_router])
