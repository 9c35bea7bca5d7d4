"""Host a service that keeps no store and reads no topic (the coordinators' web page): the same logs,
/health, /health/live, /health/ready and /metrics as every service, and the same graceful stop under uvicorn.

service.py's host opens a database and an outbox relay for every service, and the relay logs in to Kafka as
the service's own principal. A service with nothing to store and nothing to publish must not need a database
file, a Kafka user or a reachable broker to answer, so it gets this smaller host instead; what a service
exposes about itself stays the same shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.runtime.logs import configure_logging
from services.runtime.metrics import RuntimeMetrics
from services.runtime.service import run_until_stopped
from services.runtime.settings import RuntimeSettings
from services.runtime.tasks import BackgroundTask, TaskSupervisor

log = structlog.get_logger("ariane.service")

D = TypeVar("D")


@dataclass
class StatelessContext(Generic[D]):
    """What the host built for the process; `deps` is the service's own typed dependencies."""

    name: str
    settings: RuntimeSettings
    metrics: RuntimeMetrics
    tasks: TaskSupervisor
    stop: asyncio.Event
    deps: D = None  # type: ignore[assignment]  # set by the service's start() before anything reads it

    @property
    def registry(self):  # noqa: ANN201
        return self.metrics.registry


@dataclass
class StatelessWiring(Generic[D]):
    """What a stateless service's start() gives the host: its dependencies, its loops, and what /health
    should show about the services it depends on (shown, never a reason for this process to be restarted)."""

    deps: D
    tasks: Sequence[BackgroundTask] = ()
    upstreams: Callable[[], Awaitable[dict[str, str]]] | None = None
    close: Callable[[], Awaitable[None]] | None = None


@dataclass(frozen=True)
class StatelessDefinition:
    """A service as this host runs it; `consumes` and `group_id` read as a consuming service's do, so the
    one-machine tooling lists it beside the others (and finds no consumer group to wait for)."""

    name: str
    default_port: int
    start: Callable[[StatelessContext], Awaitable[StatelessWiring]]
    routers: Sequence[APIRouter] = ()
    consumes: tuple[str, ...] = field(default=())

    @property
    def group_id(self) -> str:
        return f"ariane-{self.name}"


def create_stateless_app(defn: StatelessDefinition, settings: RuntimeSettings | None = None) -> FastAPI:
    settings = settings or RuntimeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        configure_logging(defn.name, json=settings.log_json, level=settings.log_level)
        metrics = RuntimeMetrics.create(defn.name)
        stop = asyncio.Event()
        ctx: StatelessContext = StatelessContext(defn.name, settings, metrics, TaskSupervisor(defn.name, metrics, stop),
                                                 stop)
        wiring = await defn.start(ctx)
        ctx.deps = wiring.deps
        app.state.ctx, app.state.wiring = ctx, wiring
        for task in wiring.tasks:
            ctx.tasks.start(task)
        log.info("service_started", consumes=[], tasks=sorted(ctx.tasks.states()))
        try:
            yield
        finally:
            clean = await ctx.tasks.shutdown(timeout=30)
            if wiring.close is not None:
                await wiring.close()
            log.info("service_stopped", clean=clean)

    app = FastAPI(title=f"Ariane {defn.name}", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    def _checks(ctx: StatelessContext) -> dict[str, str]:
        return {failure.split(":", 1)[0]: "crashed" for failure in ctx.tasks.failures}

    @app.get("/health", tags=["operations"])
    async def health(request: Request) -> JSONResponse:
        """Everything at once, for people: own checks, background tasks, and the services it calls."""
        ctx: StatelessContext = request.app.state.ctx
        wiring: StatelessWiring = request.app.state.wiring
        checks = _checks(ctx)
        healthy = not checks
        body: dict[str, Any] = {"service": ctx.name, "status": "ok" if healthy else "unhealthy", "checks": checks,
                                "tasks": ctx.tasks.states()}
        if wiring.upstreams is not None:
            body["upstreams"] = await wiring.upstreams()
        return JSONResponse(body, status_code=200 if healthy else 503)

    @app.get("/health/live", tags=["operations"])
    async def live(request: Request) -> JSONResponse:
        ctx: StatelessContext = request.app.state.ctx
        alive = not ctx.tasks.failures
        return JSONResponse({"service": ctx.name, "status": "alive" if alive else "dead"},
                            status_code=200 if alive else 503)

    @app.get("/health/ready", tags=["operations"])
    async def ready(request: Request) -> JSONResponse:
        # Ready as soon as it answers: a service it calls being down is shown on the page, in French, to the
        # person who asked; taking this process out of rotation would only hide that message.
        ctx: StatelessContext = request.app.state.ctx
        checks = _checks(ctx)
        return JSONResponse({"service": ctx.name, "status": "not_ready" if checks else "ready", "checks": checks},
                            status_code=503 if checks else 200)

    @app.get("/metrics", tags=["operations"])
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.ctx.registry), media_type=CONTENT_TYPE_LATEST)

    for router in defn.routers:
        app.include_router(router)
    return app


def serve_stateless(defn: StatelessDefinition, *, port: int | None = None,
                    settings: RuntimeSettings | None = None) -> None:
    settings = settings or RuntimeSettings()
    run_until_stopped(create_stateless_app(defn, settings), port or settings.http_port or defn.default_port,
                      settings, lambda ctx: bool(ctx.tasks.failures))
