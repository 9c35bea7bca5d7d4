"""What /health, /health/live and /health/ready answer, whichever port asks (the API's or the operations port).

Pure functions of what the service holds in memory: the store's latest reading (services/runtime/health.py), the
supervised tasks, the relay and the consumer. The API port calls them on the event loop; the operations port
(services/runtime/ops_server.py) from its own thread, with one thing more: how long ago the event loop last
turned, because a probe answered beside the loop must still fail when the loop is stuck.
"""

from __future__ import annotations

from typing import Any, Protocol

from services.runtime.health import StoreHealth, StoreReading


class ProbedService(Protocol):
    """The part of a ServiceContext the probes read."""

    name: str
    relay: Any  # OutboxRelay: `healthy` and `role`
    tasks: Any  # TaskSupervisor: `states()`
    consumer_ready: Any  # asyncio.Event: only `is_set()`, which any thread may call
    store_health: StoreHealth | None

    @property
    def failures(self) -> list[str]: ...


Answer = tuple[int, dict[str, Any]]


def checks(ctx: ProbedService, database: str, loop: dict[str, Any] | None = None) -> dict[str, str]:
    """The checks: the database's as given (from the latest reading, "stale" when too old to trust), the rest from
    memory; a crashed task names itself; the event loop's when the operations port gives it."""
    out: dict[str, str] = {"database": database}
    out["consumer"] = "ok" if ctx.consumer_ready.is_set() else "starting"
    out["broker"] = "ok" if ctx.relay.healthy else "unavailable"
    for failure in ctx.failures:
        out[failure.split(":", 1)[0]] = "crashed"
    if loop is not None:
        out["event_loop"] = loop["status"]
    return out


def health(ctx: ProbedService, database: str, reading: StoreReading | None, age_s: float,
           loop: dict[str, Any] | None = None) -> Answer:
    """Everything at once, for people and for the local tooling. `loop`: what the operations port adds of the
    event loop (its last turn), which fails the answer when the loop is held."""
    found = checks(ctx, database, loop)
    found.pop("broker")  # shown, but not a reason for this endpoint to fail: see /health/ready
    healthy = all(v == "ok" for v in found.values())
    body: dict[str, Any] = {"service": ctx.name, "status": "ok" if healthy else "unhealthy", "checks": found,
                            "broker": "ok" if ctx.relay.healthy else "unavailable", "relay": ctx.relay.role,
                            "tasks": ctx.tasks.states(), "store_checked_s_ago": round(age_s, 3)}
    if loop is not None:
        body["event_loop_turned_s_ago"] = loop["turned_s_ago"]
    pending = ctx.store_health.outbox_pending(reading) if ctx.store_health and reading else None
    if found["database"] == "ok" and pending is not None:
        # What is committed but not yet on Kafka: lets a simulation wait until the pipeline is at rest.
        body["outbox_pending"] = pending
    return (200 if healthy else 503), body


def live(ctx: ProbedService, loop: dict[str, Any] | None = None) -> Answer:
    """The process answers, none of its core loops has crashed, and (operations port) its event loop turns:
    restart it only when this fails."""
    why = [f.split(":", 1)[0] + " crashed" for f in ctx.failures]
    if loop is not None and loop["status"] != "ok":
        why.append(f"event loop held for {loop['turned_s_ago']} s")
    body: dict[str, Any] = {"service": ctx.name, "status": "dead" if why else "alive"}
    if why:
        body["why"] = why
    if loop is not None:
        body["event_loop_turned_s_ago"] = loop["turned_s_ago"]
    return (503 if why else 200), body


def ready(ctx: ProbedService, database: str, loop: dict[str, Any] | None = None) -> Answer:
    """Database reachable, broker reachable, consumer assigned (and, operations port, the event loop turning):
    send it traffic only when this is 200."""
    found = checks(ctx, database, loop)
    is_ready = all(v == "ok" for v in found.values())
    return (200 if is_ready else 503), {"service": ctx.name, "status": "ready" if is_ready else "not_ready",
                                        "checks": found}
