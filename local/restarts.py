"""When the supervisor starts a service again, as pure functions of what happened: no clock, no process.

A child's life is a small record; each event (started, exited, ran long enough, stopped) gives the next record.
The supervisor (local/supervisor.py) holds one per child and only asks the record when the next start is due,
so one child's back-off never delays another child, nor the supervisor's own answers.

Why it never gives up: a service that keeps exiting on one machine almost always waits for something outside
it (the broker restarting, PostgreSQL not yet accepting connections, a full disk, a credentials file being
rewritten). When that comes back at 3 a.m., the service must come back by itself; a supervisor that had "left it
down" after five tries would turn a minute of broker restart into a service down until someone wakes up. The cost
of trying forever is bounded by the ceiling: one start every `ceiling` seconds. What replaces giving up is being
seen: after `crash_loop_after` quick exits in a row the child is shown as crash-looping (state file,
`ariane run status` exiting 1, a line at each attempt), with its last exit code and its next attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from services.runtime.backoff import Backoff

State = Literal["not_started", "running", "backing_off", "crash_looping", "stopped"]
WAITING: tuple[State, ...] = ("backing_off", "crash_looping")


@dataclass(frozen=True)
class RestartPolicy:
    """Wait `backoff.delay(n)` after the n-th quick exit in a row; a run of `healthy_after_s` or more forgives
    every exit before it; `crash_loop_after` quick exits in a row are shown as a crash loop."""

    backoff: Backoff = Backoff(base_s=1.0, ceiling_s=30.0)
    healthy_after_s: float = 60.0
    crash_loop_after: int = 5

    def delay(self, quick_exits: int) -> float:
        return self.backoff.delay(quick_exits)


@dataclass(frozen=True)
class Life:
    """One supervised child, as the supervisor knows it. Times are the supervisor's monotonic clock."""

    state: State = "not_started"
    starts: int = 0
    quick_exits: int = 0  # exits in a row, each before the run counted as healthy
    started_at: float = 0.0
    pid: int | None = None
    last_exit_code: int | None = None  # None: never exited, or could not even be started
    last_exit_at: float | None = None
    next_start_at: float | None = None  # set while waiting
    last_wait_s: float | None = None  # the back-off chosen at the last exit (kept once started again)

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)


def started(life: Life, pid: int | None, now: float) -> Life:
    return replace(life, state="running", starts=life.starts + 1, started_at=now, pid=pid, next_start_at=None)


def exited(life: Life, code: int | None, now: float, policy: RestartPolicy) -> Life:
    """The child is gone (`code` None: it could not be started): when to try again."""
    healthy_run = now - life.started_at >= policy.healthy_after_s
    quick_exits = 1 if healthy_run else life.quick_exits + 1
    state: State = "crash_looping" if quick_exits >= policy.crash_loop_after else "backing_off"
    wait = policy.delay(quick_exits)
    return replace(life, state=state, quick_exits=quick_exits, last_exit_code=code, last_exit_at=now,
                   next_start_at=now + wait, last_wait_s=wait)


def settled(life: Life, now: float, policy: RestartPolicy) -> Life:
    """A running child that has stayed up `healthy_after_s` is healthy again: its earlier exits are forgiven
    (shown at once, rather than only at its next exit)."""
    if life.state == "running" and life.quick_exits and now - life.started_at >= policy.healthy_after_s:
        return replace(life, quick_exits=0)
    return life


def due(life: Life, now: float) -> bool:
    return life.state in WAITING and life.next_start_at is not None and now >= life.next_start_at


def stopped(life: Life, code: int | None, now: float) -> Life:
    """Stopped on purpose (the supervisor is leaving): its exit code is kept, and it is no quick exit."""
    if life.state != "running":
        return replace(life, state="stopped", next_start_at=None)
    return replace(life, state="stopped", pid=None, last_exit_code=code, last_exit_at=now, next_start_at=None)
