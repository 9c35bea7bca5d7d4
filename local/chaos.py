"""Faults on purpose, on one machine: the pipeline of local.pipeline with several instances per service, and an
injector that breaks it at chosen moments and measures how long it takes to come back.

What can be injected, each on something this run started and on nothing else:

- ``kill -9`` of one service instance (SIGKILL to its pid); the supervisor restarts it with its back-off;
- ``broker kill -9``: the broker's JVM killed, then started again on the ports it had (local.kafka keeps them);
- ``broker pause``: the broker stopped with SIGSTOP for a few seconds, then SIGCONT, as a frozen network would;
- ``postgres restart``: the private PostgreSQL cluster of the run stopped and started again with the project's
  scripts (deploy/postgres/stop-postgres.sh, ensure-postgres.sh);
- ``full disk`` of one SQLite store: the instance's RLIMIT_FSIZE set to the current size of its database file,
  so that SQLite can no longer grow the file nor write its write-ahead log past that size (the kernel answers
  EFBIG, SQLite reports a disk I/O error), like a disk with no block left. The same limit applies to anything
  the process writes, its log included, as on a real full disk. Lifted after a few seconds.

A fault is "back" when its target answers again (the instance's /health, the broker's metadata, the database's
connections), and "caught up" when the pipeline is next at rest (local.drain) after that.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka.errors import KafkaError

from local import catalogue
from local.drain import PipelineWatcher
from local.kafka import LocalKafka, free_port, wait_ready
from local.pipeline import LocalPipeline, PipelineError
from local.supervisor import Child, service_argv

REPO = Path(__file__).resolve().parent.parent
# How long a broker killed -9 may take to come back. After an unclean stop it recovers every partition's log
# first: 48 s for 115 partitions on a loaded two-core machine, and 130 s in all to start. A run that gave up
# earlier would stop the broker it waited for and fail on its own impatience, not on Ariane.
BROKER_START_S = 600.0
KILL, BROKER_KILL, BROKER_PAUSE, POSTGRES_RESTART, FULL_DISK = (
    "kill -9", "broker kill -9", "broker pause", "postgres restart", "full disk")


@dataclass
class Fault:
    kind: str
    target: str  # an instance label ("followup#2"), "broker" or "postgres"
    day: int  # the simulated day (1-based) during which it is injected
    detail: str = ""
    injected_at: float = 0.0  # time.monotonic()
    back_at: float | None = None  # the target answers again
    caught_up_at: float | None = None  # the pipeline was next at rest after that

    @property
    def back_s(self) -> float | None:
        return None if self.back_at is None else self.back_at - self.injected_at

    @property
    def caught_up_s(self) -> float | None:
        return None if self.caught_up_at is None else self.caught_up_at - self.injected_at


def plan_faults(seed: int, days: int, instances: dict[str, int], *, kills_per_service: int = 3,
                broker_kills: int = 1, broker_pauses: int = 1, postgres_restarts: int = 0,
                full_disks: Iterable[str] = (), kills_together: int = 1) -> list[Fault]:
    """Faults at seeded random days of a run of ``days`` days (never the first two nor the last), the kills of a
    service spread over its instances in turn. ``kills_together`` kills of different services share a day (and
    are injected at the same moment); any other fault has its day to itself. Sorted by day."""
    rng = random.Random(seed)
    kills = [(KILL, f"{service}#{k % count + 1}") for k in range(kills_per_service)
             for service, count in instances.items()]
    groups = [kills[i:i + kills_together] for i in range(0, len(kills), kills_together)]
    groups += [[(BROKER_KILL, "broker")]] * broker_kills + [[(BROKER_PAUSE, "broker")]] * broker_pauses
    groups += [[(POSTGRES_RESTART, "postgres")]] * postgres_restarts
    groups += [[(FULL_DISK, f"{service}#1")] for service in full_disks]
    candidates = list(range(3, days))
    if len(candidates) < len(groups):
        raise ValueError(f"{len(groups)} days of faults do not fit in {days} days (from day 3)")
    chosen = sorted(rng.sample(candidates, len(groups)))
    rng.shuffle(groups)
    return [Fault(kind, target, day) for day, group in zip(chosen, groups, strict=True) for kind, target in group]


class PrivatePostgres:
    """A PostgreSQL cluster of this run alone, on a free port, run by the project's scripts, so that restarting
    it disturbs nobody else."""

    def __init__(self, root: Path | None = None, port: int | None = None) -> None:
        # The server runs as the `postgres` user when we are root: its directory must be reachable by it.
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="ariane-chaos-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "cluster" / "data"
        self.data.parent.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = ""

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "ARIANE_PG_DATA": str(self.data), "PGPORT": str(self.port)}

    def start(self) -> str:
        done = subprocess.run(["bash", str(REPO / "deploy/postgres/ensure-postgres.sh")], env=self.env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"could not start PostgreSQL: {done.stderr.strip()[-1500:]}")
        self.url = done.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        subprocess.run(["bash", str(REPO / "deploy/postgres/stop-postgres.sh")], env=self.env,
                       capture_output=True, text=True, timeout=120)

    async def create_database(self, name: str) -> str:
        import asyncpg
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        conn = await asyncpg.connect(user=url.username, host=url.host, port=url.port, database=url.database)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return url.set(database=name).render_as_string(hide_password=False)

    async def answers(self) -> bool:
        import asyncpg
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        try:
            conn = await asyncpg.connect(user=url.username, host=url.host, port=url.port, database=url.database,
                                         timeout=2)
        except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
            return False
        await conn.close()
        return True

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class ChaosPipeline(LocalPipeline):
    """The local pipeline with ``instances`` processes per service (one consumer group each, their own ports, one
    store), supervised in the background, and drain checks that wait out an outage instead of failing on it."""

    instances: dict[str, int] = field(default_factory=dict)  # service -> how many; 1 when absent
    kafka: LocalKafka | None = None  # the broker this run may kill and restart
    rest_timeout_s: float = 600.0
    notes: list[str] = field(default_factory=list)  # what the supervisor did
    _by_label: dict[str, Child] = field(default_factory=dict)
    _port_of: dict[str, int] = field(default_factory=dict)
    _stop_polling: threading.Event = field(default_factory=threading.Event)
    _poller: threading.Thread | None = None

    async def _wait_healthy(self, timeout: float) -> None:
        # The first instances have just been started: start the others beside them, then wait for the first.
        assert self.supervisor is not None
        for child in list(self.supervisor.children):
            self._by_label[f"{child.name}#1"] = child
            self._port_of[f"{child.name}#1"] = self.ports[child.name]
        for name, count in self.instances.items():
            for i in range(2, count + 1):
                label = f"{name}#{i}"
                port = free_port(exclude=[*self.ports.values(), *self._port_of.values()])
                child = Child(name, service_argv(name), self.run_dir / "logs" / f"{name}-{i}.log", port=port)
                self.supervisor.spawn(child)
                self.supervisor.children.append(child)
                self._by_label[label], self._port_of[label] = child, port
        # Supervised from now on, not only once all are up: an instance that dies while the others join (a
        # rebalance at start is a fault like any other) is started again instead of failing the start.
        self._poller = threading.Thread(target=self._supervise, name="chaos-supervisor", daemon=True)
        self._poller.start()
        deadline = time.monotonic() + timeout
        for label in self._by_label:
            while await self.instance_health(label) is None:
                if time.monotonic() > deadline:
                    raise PipelineError(f"{label} not healthy after {timeout:.0f} s (logs in {self.run_dir}; "
                                        f"supervisor: {' | '.join(self.notes[-6:])})")
                await asyncio.sleep(0.2)

    def _supervise(self) -> None:
        assert self.supervisor is not None
        while not self._stop_polling.wait(0.1):
            for note in self.supervisor.poll():
                if note not in self.notes[-5:]:
                    self.notes.append(note)

    # -- instances -----------------------------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        return list(self._by_label)

    def instance(self, label: str) -> Child:
        return self._by_label[label]

    def labels_of(self, service: str) -> list[str]:
        return [label for label in self._by_label if label.split("#")[0] == service]

    async def instance_health(self, label: str) -> dict | None:
        assert self.client is not None
        try:
            response = await self.client.get(f"http://127.0.0.1:{self._port_of[label]}/health", timeout=5)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    async def outbox_pending(self, services: tuple[str, ...] | None = None) -> int:
        """What waits in the outboxes, asking any instance of each service (they share one store); while no
        instance of a service answers (killed, restarting, its database down), wait for one."""
        services = tuple(self.ports) if services is None else services
        total = 0
        deadline = time.monotonic() + self.rest_timeout_s
        for service in services:
            while True:
                healths = [await self.instance_health(label) for label in self.labels_of(service)]
                answered = [h for h in healths if h is not None and "outbox_pending" in h]
                if answered:
                    total += max(int(h["outbox_pending"]) for h in answered)
                    break
                if time.monotonic() > deadline:
                    raise PipelineError(f"no instance of {service} answers (logs in {self.run_dir / 'logs'})")
                await asyncio.sleep(0.2)
        return total

    async def day_boundary(self, timeout: float = 60) -> None:
        await self._patiently(lambda: LocalPipeline.day_boundary(self, timeout), "decisions_watcher")

    async def drained(self, timeout: float = 60) -> None:
        await self._patiently(lambda: LocalPipeline.drained(self, timeout), "watcher")

    async def _patiently(self, attempt, which: str) -> None:  # noqa: ANN001
        """Retry a drain check through outages: a broker away makes the watcher's calls fail, a service away
        makes its outbox unknown; both come back. Gives up after rest_timeout_s."""
        deadline = time.monotonic() + self.rest_timeout_s
        while True:
            try:
                await attempt()
                return
            except (PipelineError, KafkaError, OSError, asyncio.TimeoutError) as exc:
                if time.monotonic() > deadline:
                    raise PipelineError(f"not at rest after {self.rest_timeout_s:.0f} s: {exc}") from exc
                if not isinstance(exc, PipelineError):
                    await self._renew_watcher(which)
                await asyncio.sleep(0.5)

    async def _renew_watcher(self, which: str) -> None:
        old: PipelineWatcher | None = getattr(self, which)
        if old is None:
            return
        try:
            await asyncio.wait_for(old.stop(), 10)
        except Exception:  # noqa: BLE001 - its connections may be dead already
            pass
        fresh = PipelineWatcher(self.bootstrap, old.groups)
        try:
            await asyncio.wait_for(fresh.start(), 15)
        except Exception:  # noqa: BLE001 - the broker is still away: try again on the next round
            try:
                await fresh.stop()
            except Exception:  # noqa: BLE001
                pass
            return
        setattr(self, which, fresh)

    async def group_lags(self) -> dict[str, int]:
        """Each service's consumer group: records not yet committed, from Kafka itself."""
        out = {}
        for service in catalogue.pipeline():
            watcher = PipelineWatcher(self.bootstrap, {self.prefix + service.group_id:
                                                       [self.prefix + t for t in service.consumes]})
            await watcher.start()
            try:
                out[service.name] = (await watcher.progress()).lag
            finally:
                await watcher.stop()
        return out

    async def stop(self, *, keep_broker: bool = False) -> None:
        self._stop_polling.set()
        if self._poller is not None:
            await asyncio.to_thread(self._poller.join, 30)
        await super().stop(keep_broker=keep_broker)


class Injector:
    """Runs the planned faults while the year is driven: each when the driver reaches its day, after a random
    pause (so at any point of the day), one after the other, waiting for each target to be back."""

    def __init__(self, pipeline: ChaosPipeline, faults: list[Fault], *, seed: int,
                 postgres: PrivatePostgres | None = None, pause_s: float = 4.0, full_disk_s: float = 6.0,
                 broker_start_s: float = BROKER_START_S, log=print) -> None:  # noqa: ANN001
        self.pipeline, self.faults, self.postgres = pipeline, faults, postgres
        self.broker_start_s = broker_start_s
        self.rng = random.Random(seed + 1)
        self.pause_s, self.full_disk_s = pause_s, full_disk_s
        self.day = 0  # the day the driver is in (1-based), set by the caller on each tick
        self.log = log
        self._task: asyncio.Task | None = None
        self._waiting_catch_up: list[Fault] = []

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def done(self) -> None:
        """Every fault injected and back (raises what the injector raised)."""
        if self._task is not None:
            await self._task

    def at_rest(self) -> None:
        """The caller saw the pipeline at rest: the faults that were back are caught up."""
        now = time.monotonic()
        for fault in self._waiting_catch_up:
            if fault.back_at is not None and fault.caught_up_at is None:
                fault.caught_up_at = now
        self._waiting_catch_up = [f for f in self._waiting_catch_up if f.caught_up_at is None]

    async def _run(self) -> None:
        for day in sorted({fault.day for fault in self.faults}):
            while self.day < day:
                await asyncio.sleep(0.05)
            await asyncio.sleep(self.rng.uniform(0.0, 1.0))
            await asyncio.gather(*(self._inject(fault) for fault in self.faults if fault.day == day))

    async def _inject(self, fault: Fault) -> None:
        fault.injected_at = time.monotonic()
        self.log(f"  day {self.day}: {fault.kind} {fault.target}")
        await getattr(self, "_" + fault.kind.replace(" -9", "").replace(" ", "_"))(fault)
        self._waiting_catch_up.append(fault)
        self.log(f"  day {self.day}: {fault.target} back after {fault.back_s:.1f} s; {fault.detail}")

    # -- the faults -----------------------------------------------------------------------------------------------
    async def _kill(self, fault: Fault) -> None:
        child = self.pipeline.instance(fault.target)
        pid = child.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while child.pid == pid:  # the supervisor notices, waits its back-off, starts a new process
            if time.monotonic() > deadline:
                raise PipelineError(f"{fault.target} was not restarted (restarts so far: {child.restarts})")
            await asyncio.sleep(0.05)
        restart_delay = child.started_at - fault.injected_at
        await self._until_healthy(fault.target)
        fault.back_at = time.monotonic()
        fault.detail = (f"pid {pid} -> {child.pid}; restart #{child.restarts} after {restart_delay:.1f} s "
                        f"(back-off {child.life.last_wait_s or 0:.0f} s)")

    async def _until_healthy(self, label: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while await self.pipeline.instance_health(label) is None:
            if time.monotonic() > deadline:
                raise PipelineError(f"{label} not healthy {timeout:.0f} s after a fault")
            await asyncio.sleep(0.1)

    def _broker(self) -> LocalKafka:
        if self.pipeline.kafka is None or self.pipeline.kafka.pid is None:
            raise PipelineError("the broker is not this run's: it cannot be killed or paused")
        return self.pipeline.kafka

    async def _broker_kill(self, fault: Fault) -> None:
        kafka = self._broker()
        before, pid = kafka.bootstrap, kafka.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        if kafka._proc is not None:  # noqa: SLF001 - reap our own child
            await asyncio.to_thread(kafka._proc.wait)  # noqa: SLF001
        down = self.rng.uniform(1.0, 3.0)
        await asyncio.sleep(down)
        after = await asyncio.to_thread(kafka.start, self.broker_start_s)
        fault.back_at = time.monotonic()
        same = "same address" if after == before else f"NEW ADDRESS {after} (was {before})"
        fault.detail = f"pid {pid} -> {kafka.pid}, down {down:.1f} s, back on {after} ({same})"

    async def _broker_pause(self, fault: Fault) -> None:
        kafka = self._broker()
        assert kafka.pid is not None
        os.kill(kafka.pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(self.pause_s)
        finally:
            os.kill(kafka.pid, signal.SIGCONT)
        await asyncio.to_thread(wait_ready, kafka.bootstrap, self.broker_start_s)
        fault.back_at = time.monotonic()
        fault.detail = f"SIGSTOP for {self.pause_s:.0f} s, then SIGCONT"

    async def _postgres_restart(self, fault: Fault) -> None:
        if self.postgres is None:
            raise PipelineError("no PostgreSQL cluster of this run to restart")
        await asyncio.to_thread(self.postgres.stop)
        down = self.rng.uniform(1.0, 3.0)
        await asyncio.sleep(down)
        await asyncio.to_thread(self.postgres.start)
        while not await self.postgres.answers():
            await asyncio.sleep(0.1)
        fault.back_at = time.monotonic()
        fault.detail = f"stopped (fast), down {down:.1f} s, started again"

    async def _full_disk(self, fault: Fault) -> None:
        child = self.pipeline.instance(fault.target)
        service = fault.target.split("#")[0]
        store = self.pipeline.run_dir / f"{service}.db"
        if self.pipeline.database_url or not store.exists():
            raise PipelineError(f"a full disk is simulated on a SQLite store only ({store})")
        pid = child.pid
        assert pid is not None
        limit = store.stat().st_size
        before = await self._retries(fault.target)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        try:
            await asyncio.sleep(self.full_disk_s)
            after = await self._retries(fault.target)
        finally:
            try:
                resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            except ProcessLookupError:
                pass
        probed = ""
        if child.pid == pid and await self._live(fault.target) == 503:
            # A core loop crashed and the process did not exit: what a liveness probe sees, and restarts.
            os.kill(pid, signal.SIGKILL)
            probed = "killed"
        while child.pid == pid and probed:
            await asyncio.sleep(0.05)
        await self._until_healthy(fault.target)
        fault.back_at = time.monotonic()
        if probed:
            what = (f"{after - before:.0f} failed batch(es) retried, then a core loop crashed and the process "
                    f"stayed up with /health/live 503 (its log could not be written either): killed as a liveness "
                    f"probe would (pid {pid} -> {child.pid})")
        elif child.pid != pid:
            what = f"{after - before:.0f} failed batch(es) retried, then the process exited (pid {pid} -> {child.pid})"
        else:
            what = f"{after - before:.0f} failed batch(es) retried, the process rode it out"
        fault.detail = f"RLIMIT_FSIZE {limit} B (its store's size) for {self.full_disk_s:.0f} s: {what}"

    async def _live(self, label: str) -> int | None:
        assert self.pipeline.client is not None
        try:
            return (await self.pipeline.client.get(
                f"http://127.0.0.1:{self.pipeline._port_of[label]}/health/live", timeout=5)).status_code  # noqa: SLF001
        except httpx.HTTPError:
            return None

    async def _retries(self, label: str) -> float:
        """ariane_handler_retries_total of an instance, 0 if it does not answer."""
        assert self.pipeline.client is not None
        try:
            text = (await self.pipeline.client.get(
                f"http://127.0.0.1:{self.pipeline._port_of[label]}/metrics", timeout=5)).text  # noqa: SLF001
        except httpx.HTTPError:
            return 0.0
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("ariane_handler_retries_total{"))


def render_faults(faults: list[Fault]) -> str:
    """The faults injected, one line each: kind, target, simulated day, back in, caught up in, what happened."""
    header = ("day", "fault", "target", "back in", "caught up in", "what happened")
    rows = [(str(f.day), f.kind, f.target, f"{f.back_s:.1f} s" if f.back_s is not None else "NOT BACK",
             f"{f.caught_up_s:.1f} s" if f.caught_up_s is not None else "-", f.detail) for f in faults]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5] for r in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 14)
    return "\n".join(lines)
