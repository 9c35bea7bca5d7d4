"""The referral handler as the runtime builds it (the HANDLERS table routed over the service's dependencies),
with only what a unit test chooses: the territory, and optionally metrics, webhook URLs and the clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from contracts.territory import Territory
from services.referral.app import ReferralDeps, utc_now
from services.referral.handlers import HANDLERS
from services.referral.metrics import ReferralMetrics
from services.referral.settings import ReferralSettings
from services.referral import store
from services.runtime.credentials import CredentialsBook
from services.runtime.routing import Handler, route
from services.runtime.unit_of_work import UnitOfWork


def ReferralHandler(territory: Territory, metrics: ReferralMetrics | None = None,  # noqa: N802 - reads as a type
                    webhook_urls: Mapping[str, str] | None = None,
                    now: Callable[[], datetime] = utc_now) -> Handler:
    """By default every webhook_url of the territory is a target (the service passes the checked ones)."""
    urls = dict(webhook_urls) if webhook_urls is not None else {
        s.id: s.webhook_url for s in territory.structures if s.webhook_url}
    deps = ReferralDeps(settings=ReferralSettings(), territory=territory, webhook_urls=urls,
                        credentials=CredentialsBook(Path("no-credentials.json")),
                        metrics=metrics, now=now)
    return route(HANDLERS, deps)


async def run(factory, handler: Handler, event) -> list:  # noqa: ANN001
    """Apply one event in a transaction of its own; what the handler emitted."""
    async with factory() as session, session.begin():
        uow = UnitOfWork(session=session, tables=store.tables, service="referral")
        await handler(event, uow)
        return uow.emitted
