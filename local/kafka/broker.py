"""One local Kafka node (KRaft, broker and controller) as a process: start or reuse it, stop it, find it again."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local.kafka.clients import run_sync, wait_ready
from local.kafka.config import LOOPBACK, default_data_dir, log4j_properties, server_properties, write_properties
from local.kafka.errors import KafkaRuntimeError, tail
from local.kafka.jars import ensure_jars, runtime_version
from local.kafka.ports import choose_ports
from local.kafka.process import exit_with_parent, pid_alive, pid_is_broker, send_signal, which_java
from local.kafka.state import PORTS_FILE, STATE_FILE, read_json, remember_ports, write_state
from local.kafka.security import CONTROLLER, credentials_dir, ensure_credentials, principals, register_principals, \
    scram_arguments
from local.kafka.storage import format_storage
from services.runtime.kafka_security import ADMIN, register_credentials_dir


class LocalKafka:
    """One local Kafka node (KRaft, broker + controller) whose files live in ``data_dir``.

    ``start()`` is idempotent: when ``data_dir/broker.json`` names a live broker,
    it is reused. ``stop()`` signals only the pid this runtime started.
    """

    def __init__(self, data_dir: Path | None = None, port: int | None = None, controller_port: int | None = None,
                 *, die_with_parent: bool = False):
        # die_with_parent: for brokers owned by a test run, which must not outlive it even when the run is
        # killed before its teardown (a broker started by `ariane kafka start` is meant to outlive the command).
        self.die_with_parent = die_with_parent
        self.data_dir = Path(data_dir if data_dir is not None else default_data_dir()).resolve()
        self._requested_port = port
        self._requested_controller_port = controller_port
        self.port: int | None = port
        self.controller_port: int | None = controller_port
        self.version: str | None = None
        self.pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.start_seconds: float | None = None

    # paths
    @property
    def config_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def credentials_dir(self) -> Path:
        """One ``<principal>.json`` per principal (owner-only): what clients authenticate with."""
        return credentials_dir(self.data_dir)

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    @property
    def ports_path(self) -> Path:
        return self.data_dir / PORTS_FILE

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def server_log(self) -> Path:
        return self.log_dir / "server.log"

    @property
    def console_log(self) -> Path:
        return self.log_dir / "console.log"

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            state = self.read_state()
            if state is None:
                raise KafkaRuntimeError(f"no local Kafka broker is known in {self.data_dir}")
            return str(state["bootstrap"])
        return f"{LOOPBACK}:{self.port}"

    # state
    def read_state(self) -> dict[str, Any] | None:
        return read_json(self.state_path)

    def live_state(self) -> dict[str, Any] | None:
        """The state file, when the pid it names is this data dir's running broker."""
        state = self.read_state()
        if state is None:
            return None
        pid = state.get("pid")
        if self._proc is not None and self._proc.pid == pid and self._proc.poll() is not None:
            return None
        if isinstance(pid, int) and pid_is_broker(pid, self.config_path):
            return state
        return None

    def is_running(self) -> bool:
        return self.live_state() is not None

    # lifecycle
    def start(self, timeout: float = 180) -> str:
        """Start the broker (or reuse the live one) and return its bootstrap once it answers.

        About 10 s on a quiet machine; the wait ends as soon as it answers, and is long because formatting the
        storage and the JVM's start took over 60 s on a small machine at a load average of 30."""
        began = time.monotonic()
        state = self.live_state()
        if state is not None:
            self._adopt(state)
            wait_ready(self.bootstrap, timeout=timeout)
            self.start_seconds = time.monotonic() - began
            return self.bootstrap

        java = which_java()
        lib = ensure_jars()
        self.version = runtime_version()
        classpath = str(lib / "*")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self._choose_ports(self.read_state() or read_json(self.ports_path))

        assert self.port is not None and self.controller_port is not None
        self._set_aside_unsecured_data()
        credentials = ensure_credentials(self.credentials_dir)
        admin, controller = credentials[ADMIN], credentials[CONTROLLER]
        write_properties(
            self.config_path,
            server_properties(self.data_dir, self.port, self.controller_port,
                              admin=(admin.username, admin.password),
                              controller=(controller.username, controller.password)),
            f"single-node KRaft broker, Apache Kafka {self.version}; rewritten on every start",
        )
        log4j = self.data_dir / "log4j.properties"
        write_properties(log4j, log4j_properties(self.server_log), "broker logging")
        format_storage(java, classpath, self.data_dir, self.config_path, scram_arguments(credentials))
        register_credentials_dir(self.bootstrap, self.credentials_dir)

        with open(self.console_log, "ab") as console:
            self._proc = subprocess.Popen(
                [
                    java, "-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                    f"-Dlog4j.configuration=file:{log4j}",
                    f"-Dkafka.logs.dir={self.log_dir}",
                    "-cp", classpath,
                    "kafka.Kafka", str(self.config_path),
                ],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
                preexec_fn=exit_with_parent if self.die_with_parent else None,
            )
        self.pid = self._proc.pid
        write_state(self.state_path, pid=self.pid, bootstrap=self.bootstrap, port=self.port,
                    controller_port=self.controller_port, version=self.version)
        try:
            wait_ready(self.bootstrap, timeout=max(1.0, timeout - (time.monotonic() - began)), alive=self._alive)
            # Principals added since the storage was formatted (a new structure in the territory file) get their
            # SCRAM user now; the admin, needed to do this, was written at format time.
            run_sync(register_principals(self.bootstrap, self.credentials_dir,
                                         [name for name in principals() if name != ADMIN]))
        except KafkaRuntimeError:
            self.stop(timeout=10)
            raise
        self.start_seconds = time.monotonic() - began
        return self.bootstrap

    def stop(self, timeout: float = 30) -> bool:
        """SIGTERM the broker this runtime started, wait, SIGKILL only after ``timeout``. True if one ran."""
        state = self.live_state()
        pid = state["pid"] if state else None
        if pid is None and self._proc is not None and self._proc.poll() is None:
            pid = self._proc.pid
        stopped = False
        if pid is not None:
            send_signal(pid, signal.SIGTERM)
            if not self._wait_exit(pid, timeout):
                send_signal(pid, signal.SIGKILL)
                self._wait_exit(pid, 10)
            stopped = True
        if self._proc is not None:
            try:
                self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None
        # Remembered so a restart comes back on the same address: clients keep the one they had. A runtime that
        # did not start the broker (`ariane kafka stop` is a new process) knows its ports from the state file.
        known = state or self.read_state() or {}
        port = self.port if self.port is not None else known.get("port")
        controller_port = self.controller_port if self.controller_port is not None else known.get("controller_port")
        if isinstance(port, int) and isinstance(controller_port, int):
            remember_ports(self.ports_path, port, controller_port)
        self.state_path.unlink(missing_ok=True)
        self.pid = None
        return stopped

    # internals
    def _adopt(self, state: Mapping[str, Any]) -> None:
        self.pid = int(state["pid"])
        self.port = int(state["port"])
        self.controller_port = int(state["controller_port"])
        self.version = str(state.get("version") or runtime_version())
        register_credentials_dir(self.bootstrap, self.credentials_dir)

    def _set_aside_unsecured_data(self) -> None:
        """A log dir formatted before this broker had credentials holds no SCRAM user: nobody could log in.
        It is moved aside (not deleted) and a fresh one is formatted with the credentials."""
        data = self.data_dir / "data"
        if (data / "meta.properties").exists() and not (self.credentials_dir / f"{ADMIN}.json").exists():
            data.rename(self.data_dir / f"data.before-authentication.{int(time.time())}")

    def _choose_ports(self, previous: Mapping[str, Any] | None) -> None:
        """Requested ports must be free; else reuse the previous run's ports if free; else pick new ones."""
        previous = previous or {}
        self.port, self.controller_port = choose_ports(
            (self._requested_port, self._requested_controller_port),
            (previous.get("port"), previous.get("controller_port")),
        )

    def _alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise KafkaRuntimeError(
                f"the Kafka broker exited with code {self._proc.returncode} while starting; "
                f"last lines of {self.console_log} and {self.server_log}:\n{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        parts = []
        for path in (self.console_log, self.server_log):
            try:
                parts.append(tail(path.read_text(encoding="utf-8", errors="replace"), 15))
            except OSError:
                pass
        return "\n".join(p for p in parts if p) or "(no output)"

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        """Poll until the broker is gone; our own child is reaped as it goes, so it never lingers as a zombie."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                try:
                    self._proc.wait(timeout=0.1)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not pid_alive(pid):
                return True
            time.sleep(0.1)
        return not pid_alive(pid)

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def resolve_bootstrap(data_dir: Path | None = None) -> str | None:
    """``KAFKA_BOOTSTRAP`` if set, else the bootstrap of a running local broker in ``data_dir``, else None."""
    env = os.environ.get("KAFKA_BOOTSTRAP", "").strip()
    if env:
        return env
    broker = LocalKafka(data_dir or default_data_dir())
    state = broker.live_state()
    if state is None:
        return None
    register_credentials_dir(str(state["bootstrap"]), broker.credentials_dir)
    return str(state["bootstrap"])
