"""The reporting service: consumes every topic into the projection, serves reports, digests and metrics."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date

import structlog
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select

from contracts import topics
from contracts.territory import load_territory
from services.reporting.handlers import on_event
from services.reporting.metrics import ReportCollector
from services.reporting.report import Period, compute, digest
from services.reporting.settings import ReportingSettings
from services.reporting.store import SERVICE, VERSIONS_DIR, load_state, metadata, tables
from services.reporting.tables import report_tables
from services.runtime.service import ServiceContext, ServiceDefinition

CONSUMES = (topics.INTAKE, topics.REFERRAL, topics.FOLLOWUP, topics.CLOCK)
log = structlog.get_logger("ariane.reporting")
router = APIRouter(prefix="/v1/report", tags=["report"])


def _period(start: date | None, end: date | None) -> Period:
    if start and end and start > end:
        raise HTTPException(422, "start must not be after end")
    return Period(start, end)


async def current_report(ctx: ServiceContext, period: Period) -> dict:
    state = await load_state(ctx.engine)
    return compute(state, period, ctx.extra["territory_id"])[0]


@router.get("")
async def get_report(request: Request, start: date | None = None, end: date | None = None,
                     format: str = "json"):  # noqa: A002, ANN201
    report = await current_report(request.app.state.ctx, _period(start, end))
    if format == "csv":
        return PlainTextResponse(to_csv(report), media_type="text/csv")
    if format != "json":
        raise HTTPException(422, "format is json or csv")
    return report


@router.get("/digest")
async def get_digest(request: Request, start: date | None = None, end: date | None = None) -> dict:
    report = await current_report(request.app.state.ctx, _period(start, end))
    return {"digest": digest(report), "period": report["period"]}


def to_csv(report: dict) -> str:
    """Every table of the report in one CSV: a `table` column, then that table's columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, rows in report_tables(report):
        if not rows:
            continue
        columns = list(rows[0])
        writer.writerow(["table", *columns])
        for row in rows:
            writer.writerow([name, *("" if row[c] is None else row[c] for c in columns)])
    return out.getvalue()


async def _inbox_size(ctx: ServiceContext) -> int:
    async with ctx.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(tables.inbox))).scalar_one()


async def _refresh_metrics(ctx: ServiceContext, collector: ReportCollector, every_s: float) -> None:
    seen = -1
    while not ctx.stop.is_set():
        try:
            size = await _inbox_size(ctx)
            if size != seen:  # recompute only when new events were applied
                state = await load_state(ctx.engine)
                collector.snapshot, collector.delays = compute(state, Period(), ctx.extra["territory_id"])
                seen = size
        except Exception as exc:  # noqa: BLE001 - metrics must not kill the service; the next round retries
            log.warning("metrics_refresh_failed", error=f"{type(exc).__name__}: {exc}")
        try:
            await asyncio.wait_for(ctx.stop.wait(), every_s)
        except TimeoutError:
            pass


async def bootstrap(ctx: ServiceContext):  # noqa: ANN201
    settings = ReportingSettings()
    territory = load_territory(settings.territory_file)
    ctx.extra["territory_id"] = territory.id
    known = frozenset(s.id for s in territory.structures) | frozenset(d.id for d in territory.dispositifs)
    collector = ReportCollector(known)
    ctx.registry.register(collector)
    ctx.extra["collector"] = collector
    ctx.extra["metrics_task"] = asyncio.create_task(_refresh_metrics(ctx, collector, settings.metrics_refresh_s))
    return on_event


def definition() -> ServiceDefinition:
    return ServiceDefinition(name=SERVICE, metadata=metadata, tables=tables, versions_dir=VERSIONS_DIR,
                             bootstrap=bootstrap, consumes=CONSUMES, routers=[router], default_port=8104)
