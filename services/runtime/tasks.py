"""Background tasks of a service, all started, supervised, stopped and reported the same way.

The consumer and the outbox relay are *critical*: if one dies the service can no longer keep its promise, so
the host stops the process (exit 70) and whatever restarts it resumes from committed offsets, losing nothing.
Every other loop (a gauge refresher, webhook delivery) is *restarted* with back-off when it crashes, and its
state shows on /health, so an operator sees a sick loop without the service going down for it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum

import structlog

from services.runtime.backoff import Backoff
from services.runtime.metrics import RuntimeMetrics

log = structlog.get_logger("ariane.tasks")

TaskBody = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class BackgroundTask:
    """A loop that runs until `stop` is set: `run(stop)` must return soon after it is."""

    name: str
    run: TaskBody
    critical: bool = False
    # Awaited after the loop has returned, before the host disposes of the database (e.g. last attempts recorded).
    close: Callable[[], Awaitable[None]] | None = None


class TaskState(str, Enum):
    RUNNING = "ok"
    RESTARTING = "restarting"
    CRASHED = "crashed"
    DONE = "stopped"


@dataclass
class _Supervised:
    task: BackgroundTask
    handle: asyncio.Task | None = None
    state: TaskState = TaskState.RUNNING
    restarts: int = 0
    last_error: str | None = None


@dataclass
class TaskSupervisor:
    """Runs a service's background tasks under one stop event; the host asks it for /health and at shutdown."""

    service: str
    metrics: RuntimeMetrics
    stop: asyncio.Event
    restart_backoff: Backoff = Backoff(base_s=0.5, ceiling_s=30.0)
    healthy_run_s: float = 60.0
    _tasks: dict[str, _Supervised] = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        """Critical tasks that crashed: the service is going down."""
        return [f"{s.task.name}: {s.last_error}" for s in self._tasks.values()
                if s.task.critical and s.state is TaskState.CRASHED]

    def start(self, task: BackgroundTask) -> None:
        if task.name in self._tasks:
            raise ValueError(f"a background task named {task.name!r} is already running")
        supervised = _Supervised(task)
        self._tasks[task.name] = supervised
        supervised.handle = asyncio.create_task(self._run(supervised), name=f"{self.service}:{task.name}")

    def states(self) -> dict[str, str]:
        return {name: s.state.value for name, s in self._tasks.items()}

    async def _run(self, s: _Supervised) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await s.task.run(self.stop)
                s.state = TaskState.DONE
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified by the task's criticality just below
                s.last_error = f"{type(exc).__name__}: {exc}"[:300]
                self.metrics.errors.labels(self.service, f"{s.task.name}_crashed").inc()
                if s.task.critical:
                    s.state = TaskState.CRASHED
                    log.exception("core_task_crashed", task=s.task.name)
                    # Offsets were not committed past what the database holds: exiting loses nothing.
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                if loop.time() - started > self.healthy_run_s:
                    s.restarts = 0  # it ran well for a while: a new crash starts the back-off from the bottom
                s.restarts += 1
                s.state = TaskState.RESTARTING
                delay = self.restart_backoff.delay(s.restarts)
                log.exception("background_task_crashed", task=s.task.name, restart_in_s=delay, restarts=s.restarts)
                try:
                    await asyncio.wait_for(self.stop.wait(), delay)
                    s.state = TaskState.DONE
                    return
                except TimeoutError:
                    s.state = TaskState.RUNNING

    async def shutdown(self, timeout: float = 30) -> bool:
        """Set stop, wait for every loop, then run the closers. True when everything ended on its own."""
        self.stop.set()
        handles = [s.handle for s in self._tasks.values() if s.handle is not None]
        clean = True
        if handles:
            _done, pending = await asyncio.wait(handles, timeout=timeout)
            for task in pending:
                task.cancel()
            clean = not pending
        for s in self._tasks.values():
            if s.task.close is not None:
                try:
                    await s.task.close()
                except Exception:  # noqa: BLE001 - one closer failing must not keep the others from running
                    clean = False
                    log.exception("background_task_close_failed", task=s.task.name)
        return clean and not self.failures
