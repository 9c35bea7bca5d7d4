"""The host's supervisor: a crashed background loop is restarted and reported, a crashed critical loop takes the
service down, and shutdown stops every loop before closing it."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

import pytest

from services.runtime.backoff import Backoff
from services.runtime.metrics import RuntimeMetrics
from services.runtime.tasks import BackgroundTask, TaskSupervisor


def supervisor(restart_after_s: float = 0.2) -> TaskSupervisor:
    return TaskSupervisor(service="svc", metrics=RuntimeMetrics.create("svc"), stop=asyncio.Event(),
                          restart_backoff=Backoff(base_s=restart_after_s, ceiling_s=restart_after_s))


async def until(condition: Callable[[], bool], timeout: float = 5) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def test_a_crashed_loop_is_restarted_and_shows_restarting_then_ok() -> None:
    sup = supervisor()
    runs: list[int] = []

    async def refresher(stop: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("gauge query failed")
        await stop.wait()

    sup.start(BackgroundTask("refresher", refresher))
    await until(lambda: sup.states() == {"refresher": "restarting"})
    assert len(runs) == 1
    await until(lambda: len(runs) == 2)
    assert sup.states() == {"refresher": "ok"}
    assert sup.failures == []
    crashes = sup.metrics.registry.get_sample_value(
        "ariane_errors_total", {"service": "svc", "kind": "refresher_crashed"})
    assert crashes == 1
    assert await sup.shutdown(timeout=2)
    assert sup.states() == {"refresher": "stopped"}


async def test_shutdown_stops_every_loop_then_runs_the_closers() -> None:
    sup = supervisor()
    journal: list[str] = []

    def loop(name: str):
        async def run(stop: asyncio.Event) -> None:
            journal.append(f"{name} started")
            await stop.wait()
            journal.append(f"{name} stopped")

        async def close() -> None:
            journal.append(f"{name} closed")

        return BackgroundTask(name, run, close=close)

    sup.start(loop("a"))
    sup.start(loop("b"))
    await until(lambda: len(journal) == 2)
    assert await sup.shutdown(timeout=2)
    assert sup.states() == {"a": "stopped", "b": "stopped"}
    assert sorted(journal[2:4]) == ["a stopped", "b stopped"]  # every loop ended before any closer ran
    assert journal[4:] == ["a closed", "b closed"]


async def test_a_loop_that_ignores_stop_is_cancelled_and_still_closed() -> None:
    sup = supervisor()
    closed: list[str] = []

    async def stubborn(stop: asyncio.Event) -> None:
        await asyncio.sleep(3600)

    async def close() -> None:
        closed.append("stubborn")

    sup.start(BackgroundTask("stubborn", stubborn, close=close))
    await asyncio.sleep(0)
    assert not await sup.shutdown(timeout=0.05)
    assert closed == ["stubborn"]


async def test_a_critical_crash_is_reported_and_stops_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    signals: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signals.append((pid, sig)))
    sup = supervisor()

    async def consumer(stop: asyncio.Event) -> None:
        raise RuntimeError("broker gone")

    sup.start(BackgroundTask("consumer", consumer, critical=True))
    await until(lambda: bool(signals))
    assert signals == [(os.getpid(), signal.SIGTERM)]
    assert sup.failures == ["consumer: RuntimeError: broker gone"]
    assert sup.states() == {"consumer": "crashed"}
    assert not await sup.shutdown(timeout=2)


async def test_two_tasks_may_not_share_a_name() -> None:
    sup = supervisor()

    async def idle(stop: asyncio.Event) -> None:
        await stop.wait()

    sup.start(BackgroundTask("x", idle))
    with pytest.raises(ValueError, match="'x'"):
        sup.start(BackgroundTask("x", idle))
    assert await sup.shutdown(timeout=2)
