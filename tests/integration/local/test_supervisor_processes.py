"""The supervisor with real processes: a child that crashes at start is started again after growing waits while
its neighbour runs on untouched, a child that stayed up long enough is forgiven, and the state file tells the
operator all of it. The waits are shortened (0.2 s doubling to 1.6 s) so that a test lasts seconds; the schedule
itself is the defaults' (tests/unit/local/test_supervisor_restarts.py).

No network: the children are plain Python processes. The loop's period under the crash loop is printed (-s to
see it), never asserted: it is a figure of the machine's load.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from local import run_state
from local.restarts import Life, RestartPolicy
from local.supervisor import Child, Supervisor
from services.runtime.backoff import Backoff

PYTHON = [sys.executable, "-I", "-S", "-c"]  # a bare interpreter: starts and exits in milliseconds
CRASH_AT_START = [*PYTHON, "import sys; sys.exit(3)"]
STEADY = [*PYTHON, "import time; time.sleep(120)"]


def fast_policy(healthy_after_s: float) -> RestartPolicy:
    return RestartPolicy(backoff=Backoff(base_s=0.2, ceiling_s=1.6), healthy_after_s=healthy_after_s,
                         crash_loop_after=5)


@contextmanager
def supervising(tmp_path: Path, commands: dict[str, list[str]], policy: RestartPolicy) -> Iterator[Supervisor]:
    supervisor = Supervisor(list(commands), tmp_path / "logs", dict(os.environ), commands=commands, policy=policy,
                            state_file=run_state.path_in(tmp_path))
    stop = threading.Event()
    loop = threading.Thread(target=supervisor.run, args=(stop,), kwargs={"echo": lambda note: None}, daemon=True)
    supervisor.start()
    loop.start()
    try:
        yield supervisor
    finally:
        stop.set()
        loop.join(timeout=10)
        supervisor.stop(timeout=10)


def watch(child: Child, exits: int, timeout: float = 40) -> list[Life]:
    """Every distinct record of `child` seen until it has exited `exits` times (sampled every 5 ms: each wait
    lasts at least 200 ms, so none is missed)."""
    seen: list[Life] = []
    deadline = time.monotonic() + timeout
    while sum(1 for life in seen if life.state in ("backing_off", "crash_looping")) < exits:
        if time.monotonic() > deadline:
            pytest.fail(f"{child.name} exited only {len(seen)} times in {timeout} s: {seen[-3:]}")
        if not seen or child.life != seen[-1]:
            seen.append(child.life)
        time.sleep(0.005)
    return seen


def waits_between(seen: list[Life]) -> list[float]:
    return [round(life.next_start_at - life.last_exit_at, 3) for life in seen
            if life.state in ("backing_off", "crash_looping") and life.next_start_at and life.last_exit_at]


def test_a_child_crashing_at_start_waits_longer_each_time_and_its_neighbour_is_untouched(tmp_path):
    with supervising(tmp_path, {"crasher": CRASH_AT_START, "steady": STEADY}, fast_policy(30)) as supervisor:
        crasher, steady = supervisor.children
        steady_pid = steady.pid
        seen = watch(crasher, exits=6)
        state = run_state.read(run_state.path_in(tmp_path))
        periods = sorted(supervisor.loop_periods)

    assert waits_between(seen) == [0.2, 0.4, 0.8, 1.6, 1.6, 1.6]
    # each start came at its time, never before (a start too early would be a busy loop)
    for waiting, restarted in zip(seen, seen[1:]):
        if waiting.next_start_at is not None and restarted.state == "running":
            assert restarted.started_at >= waiting.next_start_at
    assert seen[-1].state == "crash_looping" and seen[-1].last_exit_code == 3
    # the neighbour: same process all along, never restarted
    assert steady.pid == steady_pid and steady.restarts == 0
    assert steady.life.state == "stopped"  # stopped by us at the end, not before
    # what an operator reads meanwhile
    assert state is not None
    by_name = {s["name"]: s for s in state["services"]}
    assert by_name["steady"]["state"] == "running" and by_name["steady"]["pid"] == steady_pid
    assert by_name["crasher"]["restarts"] >= 5 and by_name["crasher"]["last_exit_code"] == 3
    assert run_state.read(run_state.path_in(tmp_path))["supervisor"]["stopped_at"] is not None
    q = statistics.quantiles(periods, n=100, method="inclusive")
    print(f"\nsupervisor loop period (tick 0.1 s) over {len(periods)} loops with a crash-looping child: "
          f"p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, max {periods[-1] * 1000:.1f} ms; "
          f"load average {os.getloadavg()[0]:.2f}")


def test_after_a_healthy_run_the_wait_is_back_to_the_first(tmp_path):
    # Starts 1, 2, 4, 5 exit at once; start 3 stays up past `healthy_after_s` before exiting.
    counter = tmp_path / "starts"
    script = (f"import pathlib, sys, time; p = pathlib.Path({str(counter)!r}); "
              "n = int(p.read_text()) + 1 if p.exists() else 1; p.write_text(str(n)); "
              "time.sleep(4 if n == 3 else 0); sys.exit(4)")
    with supervising(tmp_path, {"flaky": [*PYTHON, script]}, fast_policy(3)) as supervisor:
        seen = watch(supervisor.children[0], exits=4)

    assert waits_between(seen) == [0.2, 0.4, 0.2, 0.4]
    # while the third run was up, it was shown forgiven before it exited
    assert any(life.state == "running" and life.starts == 3 and life.quick_exits == 0 for life in seen)
