"""Run Ariane's services as separate processes, restart the ones that die, stop them all together.

Each child logs in to Kafka as its own principal: with the local broker, it finds its credentials in
``$ARIANE_VAR_DIR/kafka/credentials/<service>.json`` (or the ``ARIANE_KAFKA_CREDENTIALS_DIR`` it is given);
see services.runtime.kafka_security.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from local import catalogue
from services.runtime.backoff import Backoff

# A child that keeps dying is restarted after 1, 2, 4, 8 then 10 s, then left down for a human to look at.
RESTARTS = Backoff(base_s=1.0, ceiling_s=10.0, attempts=5)
MAX_RESTARTS = RESTARTS.attempts


def default_ports() -> dict[str, int]:
    """Each pipeline service's default port, by name, as its definition declares it."""
    return {service.name: service.default_port for service in catalogue.pipeline()}


def __getattr__(name: str) -> object:
    # SERVICES is computed on first use, so that importing this module imports no service.
    if name == "SERVICES":
        return default_ports()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = 0.0

    port: int | None = None

    def start(self, env: dict[str, str]) -> None:
        if self.port is not None:
            env = {**env, "ARIANE_HTTP_PORT": str(self.port)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


def service_argv(name: str) -> list[str]:
    """Exactly what a user types to run the service: `python -m <its package>`."""
    return [sys.executable, "-m", catalogue.by_name(name).module]


@dataclass
class Supervisor:
    names: list[str]
    log_dir: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    ports: dict[str, int] = field(default_factory=dict)  # by service; unset: the service's default port
    children: list[Child] = field(default_factory=list)

    def start(self) -> None:
        for name in self.names:
            child = Child(name, service_argv(name), self.log_dir / f"{name}.log", port=self.ports.get(name))
            child.start(self.env)
            self.children.append(child)

    def poll(self) -> list[str]:
        """Restart children that died (bounded); returns what happened, for the caller to print."""
        notes = []
        for child in self.children:
            code = child.process.poll() if child.process else None
            if code is None:
                continue
            if child.restarts >= MAX_RESTARTS:
                notes.append(f"{child.name} exited with {code} and has been restarted too often: left down")
                continue
            child.restarts += 1
            time.sleep(RESTARTS.delay(child.restarts))
            child.start(self.env)
            notes.append(f"{child.name} exited with {code}; restarted (pid {child.pid}), see {child.log_path}")
        return notes

    def stop(self, timeout: float = 40) -> None:
        # SIGTERM to the processes we started, by pid; each drains and commits before leaving.
        for child in self.children:
            if child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
