"""The intake service: HTTP ingress and the ariane.inbound.v1 consumer, on the shared runtime host."""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog

from contracts import topics
from contracts.territory import load_territory
from services.intake.api import router
from services.intake.handlers import Intake, make_inbound_handler, redact_original
from services.intake.identity import IdentityResolver, vault_size
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from services.intake.store import metadata, tables
from services.intake.vault import Vault, master_key_from
from services.runtime.processor import Handler
from services.runtime.service import ServiceContext, ServiceDefinition

log = structlog.get_logger("ariane.intake")

VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"


async def _watch_vault_size(ctx: ServiceContext, metrics: IntakeMetrics) -> None:
    while not ctx.stop.is_set():
        try:
            async with ctx.session_factory() as session:
                metrics.vault_size.set(await vault_size(session))
        except Exception as exc:  # noqa: BLE001 - a gauge is not worth a crash; the next round retries
            log.warning("vault_size_failed", error=type(exc).__name__)
        try:
            await asyncio.wait_for(ctx.stop.wait(), timeout=5)
        except asyncio.TimeoutError:
            pass


async def bootstrap(ctx: ServiceContext) -> Handler:
    settings: IntakeSettings = ctx.extra.get("intake_settings") or IntakeSettings()
    if settings.uses_dev_secrets:
        log.warning("intake_dev_secrets_in_use",
                    detail="ARIANE_INTAKE_TERRITORY_SECRET / ARIANE_INTAKE_MASTER_KEY are the development defaults: "
                           "person ids and the vault are NOT protected; set real secrets outside development")
    territory = load_territory(settings.territory_file)
    vault = Vault(master_key_from(settings.master_key))
    metrics = IntakeMetrics.create(ctx.registry)
    intake = Intake(territory, IdentityResolver(settings.territory_secret.encode(), vault), metrics)
    ctx.extra.update(intake_settings=settings, vault=vault, intake=intake, intake_metrics=metrics,
                     territory=territory)
    ctx.extra["vault_watch"] = asyncio.create_task(_watch_vault_size(ctx, metrics))
    log.info("intake_ready", territory=territory.id, structures=len(territory.structures))
    return make_inbound_handler(intake)


def definition(settings: IntakeSettings | None = None) -> ServiceDefinition:
    """The intake service; `settings` lets tests pin secrets and limits without touching the environment."""

    async def _bootstrap(ctx: ServiceContext) -> Handler:
        if settings is not None:
            ctx.extra["intake_settings"] = settings
        return await bootstrap(ctx)

    return ServiceDefinition(name="intake", metadata=metadata, tables=tables, versions_dir=VERSIONS_DIR,
                             bootstrap=_bootstrap, consumes=(topics.INBOUND,), routers=[router],
                             default_port=8101, redact=redact_original)


service = definition()
