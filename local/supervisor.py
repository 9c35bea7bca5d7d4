"""Run Ariane's services as separate processes, restart the ones that die, stop them all together.

Each child logs in to Kafka as its own principal: with the local broker, it finds its credentials in
``$ARIANE_VAR_DIR/kafka/credentials/<service>.json`` (or the ``ARIANE_KAFKA_CREDENTIALS_DIR`` it is given);
see services.runtime.kafka_security.

A child that exits is started again after a back-off of its own (local/restarts.py: 1, 2, 4 … 30 s, forgiven
after a minute of running, never given up). `poll()` never sleeps: it notes exits and starts the children whose
time has come, so one crash-looping child delays neither the others nor the state file (local/run_state.py),
which is how the supervisor answers "where is each service, and how is it doing".

Two things a supervisor that is itself killed or raced must not leave behind:

- Its children die with it. On Linux each child asks the kernel, before it runs the service, for SIGKILL when its
  parent goes (prctl PR_SET_PDEATHSIG): a supervisor killed -9 leaves no orphan holding a port or a SQLite file.
  The kernel does it, so it works whatever the supervisor died of and whatever the child is doing; a pipe that
  each child watches would need code in every service and a reader that is never stuck. SIGKILL rather than
  SIGTERM because nobody is left to wait for a drain, and the services are built to be killed -9 (make chaos).
  The kernel's "parent" is the *thread* that started the child, so every child is started from one thread that
  lives as long as the supervisor (`_spawner`), never from a thread that may end first.
- With ports chosen free (`ariane run all --free-ports`), a port can be taken by someone else between the choice
  and the service's bind. A child that exits while another process holds its port is moved to a new free port
  (`movable_ports`), and the state file says where it now is.
"""

from __future__ import annotations

import ctypes
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import catalogue, restarts, run_state
from local.kafka import free_port
from local.kafka.ports import port_is_free
from local.restarts import Life, RestartPolicy

POLICY = RestartPolicy()
# How often the loop looks at its children: an exit is noticed, and the state file refreshed, within this.
TICK_S = 0.1
# The state file is rewritten on every change, and at least this often so that readers can tell it is alive.
HEARTBEAT_S = 1.0


def default_ports() -> dict[str, int]:
    """Each pipeline service's default port, by name, as its definition declares it."""
    return {service.name: service.default_port for service in catalogue.pipeline()}


def __getattr__(name: str) -> object:
    # SERVICES is computed on first use, so that importing this module imports no service.
    if name == "SERVICES":
        return default_ports()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


PR_SET_PDEATHSIG = 1
# Resolved once in the parent: between fork and exec the child must not import nor load anything (another thread
# of the parent may have held the import lock at the fork).
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
except (OSError, AttributeError):
    _prctl = None


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """The child's preexec: SIGKILL when its parent dies; and if the parent already died before the request was
    made (the kernel would then never send it), leave at once."""
    if _prctl is None:
        return None

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:
            os._exit(70)

    return preexec


# A service's operations port (services/runtime/ops_server.py) when not chosen free: its own port + 1000, as the
# Kubernetes Deployments have it (8101 -> 9101).
OPS_PORT_OFFSET = 1000


def free_ports(names: list[str], exclude: Iterable[int] = ()) -> dict[str, int]:
    """A distinct free loopback port for each name, none of `exclude` (free when chosen: one taken in between is
    noticed when the service exits, and the supervisor moves it to another, see Supervisor.movable_ports)."""
    ports: dict[str, int] = {}
    excluded = list(exclude)
    for name in names:
        ports[name] = free_port(exclude=[*excluded, *ports.values()])
    return ports


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    port: int | None = None
    ops_port: int | None = None  # the operations port (services/runtime/ops_server.py); None: none
    life: Life = field(default_factory=Life)

    def start(self, env: dict[str, str]) -> None:
        """Start the process. Call it from a thread that outlives the child (Supervisor.spawn does): the child is
        killed when that thread ends."""
        if self.port is not None:
            env = {**env, "ARIANE_HTTP_PORT": str(self.port)}
        if self.ops_port is not None:
            env = {**env, "ARIANE_OPS_PORT": str(self.ops_port)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:  # the child has its own copy; ours is closed at once
            self.process = subprocess.Popen(self.argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True, preexec_fn=_die_with_parent(os.getpid()))
        self.life = restarts.started(self.life, self.process.pid, time.monotonic())

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def restarts(self) -> int:
        return self.life.restarts

    @property
    def started_at(self) -> float:
        return self.life.started_at


def service_argv(name: str) -> list[str]:
    """Exactly what a user types to run the service: `python -m <its package>`."""
    return [sys.executable, "-m", catalogue.by_name(name).module]


@dataclass
class Supervisor:
    names: list[str]
    log_dir: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    ports: dict[str, int] = field(default_factory=dict)  # by service; unset: the service's default port
    ops_ports: dict[str, int] = field(default_factory=dict)  # by service; unset: no operations port
    children: list[Child] = field(default_factory=list)
    policy: RestartPolicy = POLICY
    state_file: Path | None = None  # where to say where each service is and how it does (None: nowhere)
    commands: dict[str, list[str]] = field(default_factory=dict)  # by name; unset: `python -m <service>`
    urls: dict[str, str] = field(default_factory=dict)  # by name, for the state file
    loop_periods: deque[float] = field(default_factory=lambda: deque(maxlen=3000))  # seconds, last loops
    # Ports chosen free (--free-ports), not asked for: a child whose port another process took is moved.
    movable_ports: bool = False
    # A service's URL handed to other children in an environment variable (the web page's ARIANE_WEB_*_URL): when
    # the service moves, the variable is updated and the children named in `url_readers` restarted to read it.
    url_env: dict[str, str] = field(default_factory=dict)
    url_readers: tuple[str, ...] = ()
    _started_wall: float = 0.0
    _written_at: float = float("-inf")
    # The one thread every child is started from (see the module's docstring); created on first use.
    _spawner: ThreadPoolExecutor | None = None

    def spawn(self, child: Child) -> None:
        """Start `child` from the spawner thread, which lives until stop(): a child started from a thread that
        ends (a polling thread, asyncio.to_thread) would be killed with it."""
        if self._spawner is None:
            self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="supervisor-spawner")
        self._spawner.submit(child.start, self.env).result()

    def start(self) -> None:
        self._started_wall = time.time()
        for name in self.names:
            argv = self.commands.get(name) or service_argv(name)
            child = Child(name, argv, self.log_dir / f"{name}.log", port=self.ports.get(name),
                          ops_port=self.ops_ports.get(name))
            self.children.append(child)
            self._start(child, time.monotonic())
        self.write_state(force=True)

    def _start(self, child: Child, now: float) -> str:
        try:
            self.spawn(child)
        except OSError as exc:  # no such program, no file descriptor left…: waits its back-off like an exit
            child.life = restarts.exited(restarts.started(child.life, None, now), None, now, self.policy)
            return f"{child.name} could not be started ({exc}); next try in {self._wait(child, now):.0f} s"
        return f"{child.name} started again (pid {child.pid}, restart #{child.restarts})"

    def _wait(self, child: Child, now: float) -> float:
        return max(0.0, (child.life.next_start_at or now) - now)

    def poll(self) -> list[str]:
        """Note the children that exited and start those whose back-off is over; never waits. Returns what
        happened, for the caller to print."""
        notes = []
        for child in self.children:
            now = time.monotonic()
            life = child.life
            if life.state == "running":
                code = child.process.poll() if child.process else None
                if code is None:
                    child.life = restarts.settled(life, now, self.policy)
                    continue
                child.life = restarts.exited(life, code, now, self.policy)
                looping = " (crash loop: it keeps exiting)" if child.life.state == "crash_looping" else ""
                notes.append(f"{child.name} exited with {code} after {now - life.started_at:.1f} s{looping}; "
                             f"next start in {self._wait(child, now):.0f} s, see {child.log_path}")
                moved = self._move_if_taken(child)
                if moved:
                    notes.append(moved)
            elif restarts.due(life, now):
                notes.append(self._start(child, now))
        self.write_state(force=bool(notes))
        return notes

    def _move_if_taken(self, child: Child) -> str | None:
        """A child that exited while another process holds its port could not bind it (or lost it): give it
        another free port, so that its next start can succeed. Only for ports chosen free, never for a port the
        operator asked for. Its exit still counts, with its back-off: a crash is a crash."""
        if not self.movable_ports or child.port is None or port_is_free(child.port):
            return None
        old = child.port
        child.port = free_port(exclude=[c.port for c in self.children if c.port is not None])
        url = self.urls[child.name] = f"http://127.0.0.1:{child.port}"
        note = f"{child.name}: port {old} is held by another process; moved to {child.port}"
        if child.name in self.url_env:
            self.env[self.url_env[child.name]] = url
            for reader in self.children:  # SIGTERM: they drain, exit, and start again with the new address
                if reader.name in self.url_readers and reader.process and reader.process.poll() is None:
                    reader.process.send_signal(signal.SIGTERM)
                    note += f"; {reader.name} restarted to call it there"
        self.write_state(force=True)
        return note

    def run(self, stop: threading.Event, echo: Callable[[str], object] = print, tick_s: float = TICK_S) -> None:
        """poll() every `tick_s` until `stop` is set, printing what happened; the period of each loop is kept in
        `loop_periods` (and its p99 in the state file), which is how one can tell the loop never blocks."""
        last = time.monotonic()
        while not stop.wait(tick_s):
            now = time.monotonic()
            self.loop_periods.append(now - last)
            last = now
            for note in self.poll():
                echo(note)

    def loop_p99_s(self) -> float | None:
        periods = list(self.loop_periods)
        if len(periods) < 2:
            return None
        return statistics.quantiles(periods, n=100, method="inclusive")[98]

    # -- the state file ----------------------------------------------------------------------------------------
    def snapshot(self, stopped: bool = False) -> dict[str, Any]:
        now, wall = time.monotonic(), time.time()

        def at(mono: float | None) -> str | None:
            return None if mono is None else run_state.iso(wall - (now - mono))

        p99 = self.loop_p99_s()
        services = []
        for child in self.children:
            life = child.life
            services.append({
                "name": child.name, "state": life.state, "pid": life.pid if life.state == "running" else None,
                "port": child.port, "url": self.urls.get(child.name), "ops_port": child.ops_port,
                "restarts": life.restarts,
                "quick_exits": life.quick_exits, "last_exit_code": life.last_exit_code,
                "last_exit_at": at(life.last_exit_at), "started_at": at(life.started_at if life.starts else None),
                "next_start_at": at(life.next_start_at), "log": str(child.log_path)})
        return {"supervisor": {"pid": os.getpid(), "started_at": run_state.iso(self._started_wall or None),
                               "stopped_at": run_state.iso(wall) if stopped else None,
                               "loop_p99_ms": None if p99 is None else round(p99 * 1000, 1)},
                "updated_at": run_state.iso(wall), "services": services}

    def write_state(self, *, force: bool = False, stopped: bool = False) -> None:
        if self.state_file is None:
            return
        now = time.monotonic()
        if force or stopped or now - self._written_at >= HEARTBEAT_S:
            try:
                run_state.write(self.state_file, self.snapshot(stopped=stopped))
            except OSError:
                return  # a full disk must not stop the supervision; the next write tries again
            self._written_at = now

    def stop(self, timeout: float = 40) -> None:
        # SIGTERM to the processes we started, by pid; each drains and commits before leaving.
        for child in self.children:
            if child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children:
            if child.process is not None:
                try:
                    child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
            code = child.process.returncode if child.process is not None else None
            child.life = restarts.stopped(child.life, code, time.monotonic())
        self.write_state(stopped=True)
        if self._spawner is not None:  # every child has exited: its parent thread may end
            self._spawner.shutdown(wait=True)
            self._spawner = None
