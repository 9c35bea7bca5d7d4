"""Host one service: its store and migrations, the consumer, the outbox relay, and /health + /metrics.

A service describes itself with a ServiceDefinition; `create_app` turns it into an ASGI app whose lifespan
runs everything, and `serve` runs that app under uvicorn, which turns SIGTERM into a graceful shutdown:
the consumer finishes its batch and commits, the relay drains what is committed, then the process exits.
"""

from __future__ import annotations

import asyncio
import importlib.util
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.runtime.consumer import make_consumer, run_consumer
from services.runtime.db import make_engine, make_read_engine, make_session_factory
from services.runtime import probes
from services.runtime.health import StoreHealth
from services.runtime.leadership import Lease
from services.runtime.logs import configure_logging
from services.runtime.loop_watch import LoopWatch, freeze_startup_heap
from services.runtime.metrics import RuntimeMetrics
from services.runtime.migrate import upgrade_to_head
from services.runtime.ops_server import OperationsServer, Reply, Route, json_reply
from services.runtime.processor import EventProcessor, Handler, Parser, default_parser
from services.runtime.relay import OutboxRelay
from services.runtime.settings import RuntimeSettings
from services.runtime.tables import RuntimeTables
from services.runtime.tasks import BackgroundTask, TaskSupervisor
from services.runtime.transient_503 import TransientIs503

log = structlog.get_logger("ariane.service")


D = TypeVar("D")


@dataclass
class ServiceContext(Generic[D]):
    """Everything the host built for one service process; `deps` is the service's own typed dependencies."""

    name: str
    settings: RuntimeSettings
    engine: AsyncEngine
    session_factory: async_sessionmaker
    read_engine: AsyncEngine
    read_session_factory: async_sessionmaker  # for reads only: never waits for the write lock
    tables: RuntimeTables
    metrics: RuntimeMetrics
    bootstrap_servers: str
    relay: OutboxRelay
    tasks: TaskSupervisor
    stop: asyncio.Event
    consumer_ready: asyncio.Event = field(default_factory=asyncio.Event)
    store_health: StoreHealth | None = None  # what /health says of the store, read in the background
    loop_watch: LoopWatch | None = None  # when the event loop last turned: the operations port asks
    deps: D = None  # type: ignore[assignment]  # set by the service's start() before anything reads it

    @property
    def registry(self):  # noqa: ANN201
        return self.metrics.registry

    @property
    def failures(self) -> list[str]:
        return self.tasks.failures


@dataclass
class Wiring(Generic[D]):
    """What a service's start() gives the host: its dependencies, the handler of what it consumes (built from
    its HANDLERS table) and the background loops it needs besides the consumer and the relay."""

    deps: D
    handler: Handler | None = None
    tasks: Sequence[BackgroundTask] = ()


Start = Callable[[ServiceContext], Awaitable[Wiring]]


@dataclass(frozen=True)
class ServiceDefinition:
    """A service as the host runs it. Each service's app.py exports `definition()` returning one."""

    name: str
    default_port: int
    metadata: MetaData
    tables: RuntimeTables
    versions_dir: Path | None  # None: no tables but the runtime's own, created directly (the clock, test doubles)
    start: Start
    consumes: tuple[str, ...] = ()
    routers: Sequence[APIRouter] = ()
    parse: Parser = default_parser
    # Per consumed topic, a parser other than `parse` (see EventProcessor.parsers).
    parsers: Mapping[str, Parser] = field(default_factory=dict)
    # Optional: applied to a poison record's bytes before they are dead-lettered (see EventProcessor.redact).
    redact: Callable[[bytes], bytes] | None = None

    @property
    def group_id(self) -> str:
        return f"ariane-{self.name}"


_TRANSIENT_RESPONSE: dict[int | str, dict[str, Any]] = {
    503: {"description": "A database or broker is unavailable for a moment: retry the same request after "
          "Retry-After seconds."}}


def _probe_503(meaning: str) -> dict[int | str, dict[str, Any]]:
    """A probe's 503 is its answer, not a failure of the request: the document says what it means."""
    return {503: {"description": meaning}}


def create_app(defn: ServiceDefinition, settings: RuntimeSettings | None = None) -> FastAPI:
    settings = settings or RuntimeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        configure_logging(defn.name, json=settings.log_json, level=settings.log_level)
        url = settings.database_url_for(defn.name)
        engine = make_engine(url)
        if defn.versions_dir is None:
            async with engine.begin() as conn:
                await conn.run_sync(defn.metadata.create_all)
        else:
            await upgrade_to_head(engine, defn.name, defn.metadata, defn.versions_dir)
        metrics = RuntimeMetrics.create(defn.name)
        session_factory = make_session_factory(engine)
        read_engine = make_read_engine(url)
        read_session_factory = make_session_factory(read_engine)
        bootstrap_servers = settings.bootstrap()
        lease = Lease(engine, f"relay-{settings.topic_prefix}{defn.name}")
        relay = OutboxRelay(service=defn.name, session_factory=session_factory, tables=defn.tables,
                            bootstrap=bootstrap_servers, metrics=metrics, settings=settings,
                            read_session_factory=read_session_factory, lease=lease)
        stop = asyncio.Event()
        supervisor = TaskSupervisor(defn.name, metrics, stop)
        ctx: ServiceContext = ServiceContext(defn.name, settings, engine, session_factory, read_engine,
                                             read_session_factory, defn.tables, metrics, bootstrap_servers, relay,
                                             supervisor, stop)
        ctx.store_health = StoreHealth(read_engine, relay.pending_count, lambda: relay.changes)
        app.state.ctx = ctx
        try:
            if await lease.try_acquire():
                await relay.start()  # the single (or first) instance fails fast if the broker is unreachable
            else:
                log.info("relay_standby", detail="another instance of this service publishes the outbox")
            wiring = await defn.start(ctx)
            ctx.deps = wiring.deps
        except BaseException:
            # A service that cannot start leaves nothing open behind it.
            await relay.stop()
            await lease.release()
            await read_engine.dispose()
            await engine.dispose()
            raise
        supervisor.start(BackgroundTask("relay", relay.run, critical=True))
        if wiring.handler is not None and defn.consumes:
            processor = EventProcessor(defn.name, session_factory, defn.tables, wiring.handler, metrics, settings,
                                       parse=defn.parse, parsers=defn.parsers, on_committed=relay.notify,
                                       redact=defn.redact)
            consumer = make_consumer(bootstrap_servers, settings.topic_prefix + defn.group_id,
                                     [settings.topic(t) for t in defn.consumes], settings)
            supervisor.start(BackgroundTask("consumer", lambda stop: run_consumer(
                consumer=consumer, processor=processor, metrics=metrics, settings=settings, stop=stop,
                ready=ctx.consumer_ready), critical=True))
        else:
            ctx.consumer_ready.set()
        for task in wiring.tasks:
            supervisor.start(task)
        # Not one of the supervised tasks /health lists: it only keeps what /health says fresh.
        health_stop = asyncio.Event()
        health_loop = asyncio.create_task(ctx.store_health.run(health_stop))
        watch = LoopWatch(defn.name, metrics.loop_lag, metrics.gc_pause, trace_over_s=settings.loop_stall_trace_s)
        ctx.loop_watch = watch
        watch_loop = asyncio.create_task(watch.run(health_stop))
        sys.setswitchinterval(settings.gil_switch_interval_s)
        freeze_startup_heap()  # after everything started: what start-up built is never walked again
        event_loop, http_parser = loop_in_use(), http_parser_in_use(settings.http_parser)
        metrics.runtime_info.labels(defn.name, event_loop, http_parser).set(1)
        log.info("service_started", consumes=list(defn.consumes), tasks=sorted(supervisor.states()),
                 event_loop=event_loop, http_parser=http_parser)
        try:
            yield
        finally:
            health_stop.set()
            relay.notify()
            clean = await supervisor.shutdown(timeout=30)
            await asyncio.gather(health_loop, watch_loop, return_exceptions=True)
            await relay.stop()
            await lease.release()
            await read_engine.dispose()
            await engine.dispose()
            log.info("service_stopped", clean=clean)

    # Any route can meet a database or broker outage (runtime/transient_503.py): the document says so for each.
    app = FastAPI(title=f"Ariane {defn.name}", lifespan=lifespan, responses=_TRANSIENT_RESPONSE)

    @app.get("/health", tags=["operations"], responses=_probe_503("Unhealthy: a check or a background task failed "
                                                                    "(the body says which)."))
    async def health(request: Request) -> JSONResponse:
        """Everything at once, for people and for the local tooling: checks, background tasks, outbox. What it says
        of the store is the latest reading (services/runtime/health.py), `store_checked_s_ago` seconds old."""
        ctx: ServiceContext = request.app.state.ctx
        assert ctx.store_health is not None
        database, reading, age = await ctx.store_health.database_check()
        return _json(probes.health(ctx, database, reading, age))

    @app.get("/health/live", tags=["operations"],
             responses=_probe_503("Dead: a core loop crashed; restart the process."))
    async def live(request: Request) -> JSONResponse:
        """The process answers and none of its core loops has crashed: restart it only when this fails."""
        return _json(probes.live(request.app.state.ctx))

    @app.get("/health/ready", tags=["operations"],
             responses=_probe_503("Not ready: the database, the broker or the consumer's assignment is missing (the "
                                  "body says which); send it no traffic."))
    async def ready(request: Request) -> JSONResponse:
        """Database reachable, broker reachable, consumer assigned: send it traffic only when this is 200."""
        ctx: ServiceContext = request.app.state.ctx
        assert ctx.store_health is not None
        database, _reading, _age = await ctx.store_health.database_check()
        return _json(probes.ready(ctx, database))

    app.add_middleware(TransientIs503, retry_after_s=settings.retry_after_s)

    @app.get("/metrics", tags=["operations"])
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.ctx.registry), media_type=CONTENT_TYPE_LATEST)

    for router in defn.routers:
        app.include_router(router)
    return app


def _json(answer: probes.Answer) -> JSONResponse:
    status, body = answer
    return JSONResponse(body, status_code=status)


def operations_routes(app: FastAPI, name: str, settings: RuntimeSettings) -> dict[str, Route]:
    """The probes and /metrics as the operations port answers them (services/runtime/ops_server.py), from what the
    service's lifespan put in `app.state.ctx`: until it has, every probe answers 503 "starting", as the API port,
    not yet listening, answers none (an orchestrator's startup probe gives a start that hangs its time, then
    restarts it)."""

    def context() -> ServiceContext | None:
        ctx = getattr(app.state, "ctx", None)
        return ctx if ctx is not None and ctx.store_health is not None and ctx.loop_watch is not None else None

    def loop_of(ctx: ServiceContext) -> dict[str, Any]:
        assert ctx.loop_watch is not None
        turned = ctx.loop_watch.turned_s_ago()
        held = turned > settings.ops_loop_dead_after_s
        return {"status": "held" if held else "ok", "turned_s_ago": round(turned, 3)}

    def answering(probe: Callable[[ServiceContext], probes.Answer]) -> Route:
        def route() -> Reply:
            ctx = context()
            return json_reply(*probe(ctx)) if ctx else json_reply(503, {"service": name, "status": "starting"})
        return route

    def health(ctx: ServiceContext) -> probes.Answer:
        assert ctx.store_health is not None
        return probes.health(ctx, *ctx.store_health.latest_check(), loop=loop_of(ctx))

    def ready(ctx: ServiceContext) -> probes.Answer:
        assert ctx.store_health is not None
        return probes.ready(ctx, ctx.store_health.latest_check()[0], loop=loop_of(ctx))

    def metrics() -> Reply:
        ctx = context()
        if ctx is None:
            return json_reply(503, {"service": name, "status": "starting"})
        # A collector may read figures the loop is updating (reporting's): a dict that changed size under the read
        # raises, and the next read succeeds. Two reads may fail so; the third's failure is the answer's.
        for _ in range(2):
            try:
                return 200, generate_latest(ctx.registry), CONTENT_TYPE_LATEST
            except RuntimeError:
                continue
        return 200, generate_latest(ctx.registry), CONTENT_TYPE_LATEST

    return {"/health": answering(health), "/health/live": answering(lambda c: probes.live(c, loop_of(c))),
            "/health/ready": answering(ready), "/metrics": metrics}


def serve(defn: ServiceDefinition, *, port: int | None = None, settings: RuntimeSettings | None = None) -> None:
    settings = settings or RuntimeSettings()
    # Before anything logs: the operations port's first line is JSON with the service's name, as every other.
    configure_logging(defn.name, json=settings.log_json, level=settings.log_level)
    app = create_app(defn, settings)
    operations = None
    if settings.ops_port is not None:  # bound before the API port: a taken port fails the start, as the API's does
        operations = OperationsServer(settings.http_host, settings.ops_port,
                                      operations_routes(app, defn.name, settings)).start()
        log.info("operations_port_serving", port=operations.port)
    try:
        run_until_stopped(app, port or settings.http_port or defn.default_port, settings,
                          lambda ctx: bool(ctx.failures))
    finally:
        if operations is not None:
            operations.stop()


def loop_in_use() -> str:
    """The running event loop's implementation: "uvloop" or "asyncio"."""
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def event_loop_for(setting: str) -> str:
    """The event loop uvicorn runs a service on for this setting (its rule for auto: uvloop when it can be
    imported, else asyncio's). `loop_in_use` tells it from inside the running service."""
    if setting != "auto":
        return setting
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def http_parser_in_use(setting: str) -> str:
    """The parser uvicorn serves the API port with for this setting (its rule for auto: httptools when it can
    be imported, else h11). A service driven in-process by a test parses nothing itself; this is what it would."""
    if setting != "auto":
        return setting
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def run_until_stopped(app: FastAPI, port: int, settings: RuntimeSettings,
                      failed: Callable[[Any], bool]) -> None:
    """Serve `app` until SIGTERM or SIGINT, then exit 0, or 70 when it never started or `failed(ctx)` says a
    core task crashed (every host of this runtime stops the same way)."""
    config = uvicorn.Config(app, host=settings.http_host, port=port, log_config=None, access_log=False,
                            lifespan="on", timeout_graceful_shutdown=30, loop=settings.event_loop,
                            http=settings.http_parser)
    # uvicorn re-raises SIGTERM/SIGINT once its graceful shutdown is done; with a handler of ours in place
    # that re-raise is absorbed, so a clean stop exits 0 and a crashed core task exits 70.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.Server(config).run()
    ctx = getattr(app.state, "ctx", None)
    raise SystemExit(70 if ctx is None or failed(ctx) else 0)
