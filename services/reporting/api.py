"""Reporting's HTTP routes: the report for a period as JSON or CSV, and its digest.

Both read the whole territory's figures, for the coordinator and for auditors and funders; a structure's
keys (partner, counsellor) are refused with 403: the report puts every structure's flows side by side, and
structures act on their own worklists, not on the territory's tables."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse

from services.reporting.domain.calendar import Period
from services.reporting.domain.digest import digest
from services.reporting.domain.report import Report, as_json, compute, to_csv
from services.reporting.store.documents import load_state
from services.runtime.access import Principal, principal_from, require_role
from services.runtime.service import ServiceContext

if TYPE_CHECKING:
    from services.reporting.app import ReportingDeps

router = APIRouter(prefix="/v1/report", tags=["report"])


def context(request: Request) -> ServiceContext[ReportingDeps]:
    """The service's context: its store's engine and its typed dependencies."""
    return request.app.state.ctx


Context = Annotated[ServiceContext, Depends(context)]
_caller = principal_from(lambda request: context(request).deps.credentials)


def reader(who: Principal = Depends(_caller)) -> Principal:
    """The report's readers: the territory's coordinator and its auditors."""
    return require_role(who, "coordinator", "auditor")


Reader = Annotated[Principal, Depends(reader)]


def _period(start: date | None, end: date | None) -> Period:
    if start and end and start > end:
        raise HTTPException(422, "start must not be after end")
    return Period(start, end)


async def current_report(ctx: ServiceContext[ReportingDeps], period: Period) -> Report:
    return compute(await load_state(ctx.engine), period, ctx.deps.territory.id)


@router.get("", response_model=None)
async def get_report(ctx: Context, _who: Reader, start: date | None = None, end: date | None = None,
                     format: str = "json") -> dict[str, Any] | PlainTextResponse:  # noqa: A002
    report = await current_report(ctx, _period(start, end))
    if format == "csv":
        return PlainTextResponse(to_csv(report), media_type="text/csv")
    if format != "json":
        raise HTTPException(422, "format is json or csv")
    return as_json(report)


@router.get("/digest")
async def get_digest(ctx: Context, _who: Reader, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    report = await current_report(ctx, _period(start, end))
    return {"digest": digest(report), "period": as_json(report)["period"]}
