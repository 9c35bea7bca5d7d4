"""The whole of Ariane on one machine: a real Kafka, the four services as processes, and a drain check.

Used by `ariane demo` and by the end-to-end tests, so that both exercise the same start-up a user gets:
a private topic namespace and private stores per run, one API key per structure, services on free ports, and
a credentials book in the run directory holding those keys and the coordinator's (`coordinator.key`).

On the local broker every client authenticates: each service as its own principal (it is given the broker's
credentials directory and takes its own file there), this pipeline's watchers as the admin (``kafka_security()``),
a partner as its own principal (``partner_security(structure id)``: it may write only its own topic,
ariane.inbound.v1.<structure id>), with the topics of the run's territory file created and the ACLs of the run's
topic prefix granted at start.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from local import catalogue
from local.drain import NotDrained, PipelineWatcher, service_groups, wait_drained
from local.kafka import LocalKafka, default_data_dir, ensure_topics
from local.kafka.security import partner_principal
from local.supervisor import Supervisor, free_ports
from services.runtime.credentials import CredentialsBook, Role
from services.runtime.kafka_security import ADMIN, client_security, credentials_dir_for

# The services whose decisions depend on the order of what they read: between simulated days the pipeline
# must have settled for them. Reporting's projection does not depend on order (and feeds nobody), so it
# may trail behind until the end; waiting for it every day would only add a hop of latency per day.
ORDER_SENSITIVE = ("intake", "referral", "followup")

# How long a service may answer /health with 503 (or not at all) on end before a wait for rest gives up on it. A
# store reading late on a loaded machine ("stale", "failing: TimeoutError") lasts seconds; a service that died
# for good is restarted by the supervisor within its back-off (at most 30 s).
UNHEALTHY_PATIENCE_S = 45.0


def keep_secret(path: Path, text: str) -> None:
    """A file only its owner may read, created so from the start (never world-readable for an instant)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


class PipelineError(RuntimeError):
    """The local pipeline could not start or did not come to rest; the message says where to look."""


@dataclass
class LocalPipeline:
    run_dir: Path
    prefix: str
    database_url: str | None = None  # None: one SQLite file per service in run_dir
    territory_file: Path = DEFAULT_TERRITORY_FILE
    partitions: int = 6
    bootstrap: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    ops_ports: dict[str, int] = field(default_factory=dict)  # the operations port of each pipeline service
    api_keys: dict[str, str] = field(default_factory=dict)
    coordinator_token: str = ""
    broker: LocalKafka | None = None  # set when this pipeline started the broker itself
    supervisor: Supervisor | None = None
    watcher: PipelineWatcher | None = None
    decisions_watcher: PipelineWatcher | None = None
    client: httpx.AsyncClient | None = None
    env: dict[str, str] = field(default_factory=dict)
    with_web: bool = False  # also serve the coordinators' page, on the run's services (ports["web"])
    _unhealthy_since: dict[str, float] = field(default_factory=dict, repr=False)  # service -> first 503 in a row

    # -- start ---------------------------------------------------------------------------------------------
    async def start(self, *, bootstrap: str | None = None, timeout: float = 90) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.bootstrap = bootstrap or os.environ.get("KAFKA_BOOTSTRAP") or await self._local_broker()
        await ensure_topics(self.bootstrap, partitions=self.partitions, prefix=self.prefix,
                            territory_file=self.territory_file)
        env = self._service_env()
        self.api_keys = await asyncio.to_thread(self._issue_keys, env)
        services = catalogue.pipeline()
        # The web page is not in `services`: it has no consumer group, so the drain watchers never wait for it.
        self.ports = free_ports([service.name for service in services] + (["web"] if self.with_web else []))
        if self.with_web:
            env.update({f"ARIANE_WEB_{name.upper()}_URL": self.url(name) for name in ("followup", "intake",
                                                                                     "reporting")})
            env["ARIANE_WEB_TERRITORY_FILE"] = str(self.territory_file)
        # Each service also answers its probes and /metrics on a port of its own, beside its event loop.
        self.ops_ports = free_ports([service.name for service in services], exclude=self.ports.values())
        self.supervisor = Supervisor(list(self.ports), self.run_dir / "logs", env, ports=dict(self.ports),
                                     ops_ports=dict(self.ops_ports))
        self.supervisor.start()
        self.client = httpx.AsyncClient(timeout=30)
        await self._wait_healthy(timeout)
        self.watcher = PipelineWatcher(self.bootstrap, service_groups(services, self.prefix))
        self.decisions_watcher = PipelineWatcher(self.bootstrap, service_groups(
            [s for s in services if s.name in ORDER_SENSITIVE], self.prefix))
        await self.watcher.start()
        await self.decisions_watcher.start()

    async def _local_broker(self) -> str:
        broker = LocalKafka(default_data_dir())
        was_running = broker.is_running()
        bootstrap = await asyncio.to_thread(broker.start)
        if not was_running:
            self.broker = broker  # ours to stop at the end
        return bootstrap

    @property
    def credentials_file(self) -> Path:
        """The run's credentials book: every service checks keys against it, `ariane structures` writes it."""
        return self.run_dir / "credentials.json"

    def issue_key(self, role: Role, structure: str, *, counsellor: str | None = None, label: str = "") -> str:
        """A new key of the run's book (a counsellor's, an auditor's…), valid in the running services at once."""
        return CredentialsBook(self.credentials_file).issue(role, structure, counsellor=counsellor,
                                                            label=label or f"local pipeline {role}").token

    def _service_env(self) -> dict[str, str]:
        territory = load_territory(self.territory_file)
        self.coordinator_token = self.issue_key("coordinator", territory.coordinator.id)
        keep_secret(self.run_dir / "coordinator.key", self.coordinator_token + "\n")
        env = {
            **os.environ,
            "ARIANE_VAR_DIR": str(self.run_dir),
            "ARIANE_TOPIC_PREFIX": self.prefix,
            "ARIANE_KAFKA_BOOTSTRAP": self.bootstrap,
            "ARIANE_KAFKA_CREDENTIALS_DIR": str(credentials_dir_for(self.bootstrap) or ""),
            "ARIANE_LOG_JSON": "true",
            "ARIANE_INTAKE_TERRITORY_SECRET": secrets.token_hex(32),
            "ARIANE_INTAKE_MASTER_KEY": secrets.token_hex(32),
            "ARIANE_CREDENTIALS_FILE": str(self.credentials_file),
        }
        for service in catalogue.pipeline():
            env[f"ARIANE_{service.name.upper()}_TERRITORY_FILE"] = str(self.territory_file)
        if self.database_url:
            env["ARIANE_DATABASE_URL"] = self.database_url
        else:
            env.pop("ARIANE_DATABASE_URL", None)
        env.pop("ARIANE_HTTP_PORT", None)
        env.pop("ARIANE_OPS_PORT", None)
        env.pop("ARIANE_KAFKA_PRINCIPAL", None)  # each service is itself
        if not env["ARIANE_KAFKA_CREDENTIALS_DIR"]:
            del env["ARIANE_KAFKA_CREDENTIALS_DIR"]
        self.env = env
        return env

    def _issue_keys(self, env: dict[str, str]) -> dict[str, str]:
        keys_file = self.run_dir / "api-keys.json"
        done = subprocess.run([sys.executable, "-m", "cli.main", "structures", "add-keys", "--out",
                               str(keys_file)], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise PipelineError(f"could not issue API keys: {done.stderr.strip()[-1500:]}")
        return json.loads(keys_file.read_text(encoding="utf-8"))

    def kafka_security(self, principal: str = ADMIN) -> dict:
        """aiokafka security arguments for a client of this pipeline's broker (the simulator, the watchers)."""
        return client_security(self.bootstrap, principal)

    def partner_security(self, structure_id: str) -> dict:
        """aiokafka security arguments of a partner structure's own principal: it writes its own topic only."""
        return self.kafka_security(partner_principal(structure_id))

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def ops_url(self, service: str) -> str:
        """Where the service answers its probes and /metrics from a thread of their own (not its event loop)."""
        return f"http://127.0.0.1:{self.ops_ports[service]}"

    async def _health(self, service: str) -> dict | None:
        body, _why = await self._health_answer(service)
        return body

    async def _health_answer(self, service: str) -> tuple[dict | None, str]:
        """/health's body when the service says it is healthy, else None and why not (the checks it names)."""
        assert self.client is not None
        try:
            response = await self.client.get(f"{self.url(service)}/health")
        except httpx.TransportError as exc:
            return None, f"no answer ({type(exc).__name__})"
        if response.status_code == 200:
            return response.json(), ""
        try:
            checks = response.json().get("checks", {})
        except ValueError:
            checks = {}
        failing = {name: state for name, state in checks.items() if state != "ok"}
        return None, f"HTTP {response.status_code}, checks {failing or checks}"

    async def _wait_healthy(self, timeout: float) -> None:
        assert self.supervisor is not None
        deadline = time.monotonic() + timeout
        waiting = set(self.ports)
        while waiting:
            for child in self.supervisor.children:
                if child.process and child.process.poll() is not None:
                    tail = child.log_path.read_text(errors="replace")[-2500:]
                    raise PipelineError(f"{child.name} exited with {child.process.returncode} while starting:\n{tail}")
            waiting = {name for name in waiting if await self._health(name) is None}
            if waiting and time.monotonic() > deadline:
                raise PipelineError(f"not healthy after {timeout:.0f} s: {sorted(waiting)} (logs in {self.run_dir})")
            await asyncio.sleep(0.2)

    # -- rest ------------------------------------------------------------------------------------------------
    async def outbox_pending(self, services: tuple[str, ...] | None = None) -> int:
        """Outbox rows waiting in the services' stores. A service that does not say it is healthy counts as one
        row (not known to be empty): on a loaded machine its store reading can be late or slow for a few seconds
        (/health then answers 503 "stale" or "failing"), and that is a reason to look again, not to give up.
        Unhealthy for longer than UNHEALTHY_PATIENCE_S on end is a PipelineError naming the failing checks."""
        services = tuple(self.ports) if services is None else services
        answers = await asyncio.gather(*(self._health_answer(name) for name in services))
        now, pending = time.monotonic(), 0
        for name, (health, why) in zip(services, answers):
            if health is not None:
                self._unhealthy_since.pop(name, None)
                pending += int(health.get("outbox_pending", 0))
                continue
            since = self._unhealthy_since.setdefault(name, now)
            if now - since > UNHEALTHY_PATIENCE_S:
                raise PipelineError(f"{name} is not healthy for {now - since:.0f} s: {why} "
                                    f"(logs in {self.run_dir / 'logs'})")
            pending += 1
        return pending

    async def day_boundary(self, timeout: float = 300) -> None:
        """Between simulated days: the order-sensitive services have read everything, and nothing they read
        waits in an outbox (intake's and referral's; followup's output feeds only reporting)."""
        assert self.decisions_watcher is not None
        await self._at_rest(self.decisions_watcher, ("intake", "referral"), timeout)

    async def drained(self, timeout: float = 300) -> None:
        """Every service, reporting included, has read and published everything."""
        assert self.watcher is not None
        await self._at_rest(self.watcher, tuple(self.ports), timeout)

    async def _at_rest(self, watcher: PipelineWatcher, outboxes: tuple[str, ...], timeout: float) -> None:
        """Drained as local.drain defines it, with the outboxes of the services whose output the watched groups
        read."""
        try:
            await wait_drained(watcher, timeout=timeout, outbox_pending=lambda: self.outbox_pending(outboxes))
        except NotDrained as exc:
            raise PipelineError(f"the pipeline did not come to rest: {exc}") from None

    # -- reading -----------------------------------------------------------------------------------------------
    def coordinator_auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.coordinator_token}"}

    async def report(self) -> tuple[dict, str]:
        assert self.client is not None
        auth = self.coordinator_auth()
        report = (await self.client.get(f"{self.url('reporting')}/v1/report", headers=auth)).raise_for_status().json()
        digest = (await self.client.get(f"{self.url('reporting')}/v1/report/digest",
                                        headers=auth)).raise_for_status().json()
        return report, digest["digest"]

    async def worklist(self, page_size: int = 1000) -> dict:
        assert self.client is not None
        response = await self.client.get(f"{self.url('followup')}/v1/worklist", params={"page_size": page_size},
                                         headers=self.coordinator_auth())
        return response.raise_for_status().json()

    async def ledger(self) -> dict:
        assert self.client is not None
        return (await self.client.get(f"{self.url('followup')}/v1/ledger")).raise_for_status().json()

    # -- stop --------------------------------------------------------------------------------------------------
    async def stop(self, *, keep_broker: bool = False) -> None:
        for watcher in (self.watcher, self.decisions_watcher):
            if watcher is not None:
                await watcher.stop()
        self.watcher = self.decisions_watcher = None
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        if self.supervisor is not None:
            await asyncio.to_thread(self.supervisor.stop)
            self.supervisor = None
        if self.broker is not None and not keep_broker:
            await asyncio.to_thread(self.broker.stop)
            self.broker = None
