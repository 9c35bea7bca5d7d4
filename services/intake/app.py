"""The intake service: HTTP ingress and the consumer of the partners' topics, on the shared runtime host."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime, timezone
from pathlib import Path

import structlog

from contracts import topics
from contracts.territory import Territory, load_territory
from services.intake.api import router
from services.intake.api.door import Door
from services.intake.domain.admission import KnownStructures
from services.intake.domain.redaction import redact_original
from services.intake.handlers import HANDLERS, inbound_parser
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from services.intake.store.identities import IdentityResolver
from services.intake.store.tables import metadata, tables
from services.intake.store.vault import Vault, master_key_from
from services.intake.tasks import vault_size_gauge
from services.runtime.credentials import CredentialsBook
from services.runtime.routing import route
from services.runtime.service import ServiceContext, ServiceDefinition, Wiring

log = structlog.get_logger("ariane.intake")

VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class IntakeDeps:
    """What intake's handlers and routes work with, built once at start."""

    settings: IntakeSettings
    territory: Territory
    structures: KnownStructures
    vault: Vault
    resolver: IdentityResolver
    metrics: IntakeMetrics
    credentials: CredentialsBook  # the book every API shares: revocations and other roles' keys, see api.py
    door: Door  # the admission limit of POST /v1/events (settings.max_events_in_flight)
    clock: Callable[[], datetime] = field(default=_utc_now)  # stamps `recordedtime` of what intake publishes


async def start(ctx: ServiceContext, settings: IntakeSettings | None = None) -> Wiring[IntakeDeps]:
    """Build intake's dependencies; without `settings`, they are read from the environment (ARIANE_INTAKE_*)."""
    settings = settings or IntakeSettings()
    if settings.uses_dev_secrets:
        log.warning("intake_dev_secrets_in_use",
                    detail="ARIANE_INTAKE_TERRITORY_SECRET / ARIANE_INTAKE_MASTER_KEY are the development defaults: "
                           "person ids and the vault are NOT protected; set real secrets outside development")
    territory = load_territory(settings.territory_file)
    vault = Vault(master_key_from(settings.master_key.get_secret_value()))
    metrics = IntakeMetrics.create(ctx.registry)
    deps = IntakeDeps(settings=settings, territory=territory, structures=KnownStructures.of(territory), vault=vault,
                      resolver=IdentityResolver(settings.territory_key, vault), metrics=metrics,
                      credentials=CredentialsBook(ctx.settings.credentials_path()),
                      door=Door(settings.max_events_in_flight, metrics.in_flight))
    log.info("intake_ready", territory=territory.id, structures=len(territory.structures))
    return Wiring(deps=deps, handler=route(HANDLERS, deps),
                  tasks=[vault_size_gauge(ctx.read_session_factory, metrics)])


def definition(settings: IntakeSettings | None = None) -> ServiceDefinition:
    """The intake service; `settings` lets tests pin secrets and limits without touching the environment.

    It reads one topic per structure of its territory file, ariane.inbound.v1.<structure id>, which only that
    structure's principal may write: the topic is the sender (`inbound_parser`)."""
    partners = [s.id for s in load_territory((settings or IntakeSettings()).territory_file).structures]
    return ServiceDefinition(name="intake", default_port=8101, metadata=metadata, tables=tables,
                             versions_dir=VERSIONS_DIR, start=partial(start, settings=settings),
                             # The referral and followup topics name the structures asked to act on a person
                             # (who may then see the identity) and the closures; the clock's days erase who was
                             # closed longer than the retention period; the partners' topics are their raw records.
                             consumes=(*topics.inbound_topics(partners), topics.REFERRAL, topics.FOLLOWUP,
                                       topics.CLOCK),
                             routers=[router],
                             parsers={topics.inbound_topic(s): inbound_parser(s) for s in partners},
                             redact=redact_original)
