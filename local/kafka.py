"""A real, local, single-node Apache Kafka broker (KRaft), run from Kafka's own jars.

The Kafka version is pinned once, in ``deploy/kafka/pom.xml``. Its jars are
resolved from Maven Central by ``mvn dependency:copy-dependencies`` into a
per-user cache folder (once per machine and version), or taken from
``$KAFKA_HOME/libs`` when that is set. A broker started here writes
``<data_dir>/broker.json`` so that other processes (the CLI, the tests, the
services) find it again; ``KAFKA_BOOTSTRAP`` always wins over it.

No domain knowledge lives here: only topic names come from ``contracts``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from contracts.topics import ALL_TOPICS, SINGLE_PARTITION_TOPICS

T = TypeVar("T")

POM_PATH = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
LOOPBACK = "127.0.0.1"
STATE_FILE = "broker.json"
MVN_TIMEOUT_S = 900
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
TOPIC_ALREADY_EXISTS = 36


class KafkaRuntimeError(RuntimeError):
    """The local Kafka runtime cannot do what was asked; the message says why, for a human."""


# --------------------------------------------------------------------------- versions and jars


def kafka_version(pom: Path = POM_PATH) -> str:
    """The pinned Apache Kafka version (the pom's ``kafka.version`` property)."""
    try:
        root = ET.parse(pom).getroot()
    except (OSError, ET.ParseError) as exc:
        raise KafkaRuntimeError(f"cannot read the Kafka version pin from {pom}: {exc}") from exc
    node = root.find("m:properties/m:kafka.version", _POM_NS)
    if node is None:
        node = root.find("properties/kafka.version")
    if node is None or not (node.text or "").strip():
        raise KafkaRuntimeError(f"{pom} has no <kafka.version> property")
    return node.text.strip()


def _kafka_home() -> Path | None:
    home = os.environ.get("KAFKA_HOME", "").strip()
    return Path(home).expanduser() if home else None


def _kafka_home_version(libs: Path) -> str | None:
    for jar in sorted(libs.glob("kafka_2.*-*.jar")):
        name = jar.name[: -len(".jar")]
        version = name.split("-", 1)[1]
        if not any(tag in version for tag in ("sources", "javadoc", "test")):
            return version
    return None


def runtime_version() -> str:
    """Version of the broker this runtime would start: from ``$KAFKA_HOME`` if set, else the pom."""
    home = _kafka_home()
    if home is not None:
        return _kafka_home_version(home / "libs") or "unknown"
    return kafka_version()


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "ariane"


def jars_dir(version: str | None = None) -> Path:
    """Where the jars of one Kafka version are cached: ``<cache>/ariane/kafka-<version>/lib``."""
    return cache_root() / f"kafka-{version or kafka_version()}" / "lib"


def _required_jars(version: str) -> tuple[str, ...]:
    return (f"kafka_2.13-{version}.jar", f"kafka-clients-{version}.jar", f"kafka-storage-{version}.jar")


def _jars_complete(lib: Path, version: str) -> bool:
    if not lib.is_dir():
        return False
    if not all((lib / name).is_file() for name in _required_jars(version)):
        return False
    # a logging backend must be there too, or the broker logs nothing at all
    return any(lib.glob("slf4j-*.jar")) and any(lib.glob("*reload4j*.jar") or lib.glob("log4j-core-*.jar"))


def _which_java() -> str:
    java_home = os.environ.get("JAVA_HOME", "").strip()
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("java")
    if not found:
        raise KafkaRuntimeError(
            "Java was not found (no `java` on PATH, no usable JAVA_HOME): the local Kafka broker "
            "needs a Java 17+ runtime. Install one (e.g. `apt-get install openjdk-17-jre-headless`), "
            "or point KAFKA_BOOTSTRAP at a running broker."
        )
    return found


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def ensure_jars() -> Path:
    """Return the folder holding the broker's jars, downloading them with Maven if needed.

    ``$KAFKA_HOME/libs`` is used as is when ``KAFKA_HOME`` is set. Otherwise the
    jars go to :func:`jars_dir`; they are first copied into a temporary sibling
    folder that is renamed into place only once Maven succeeded, so an
    interrupted download never looks complete.
    """
    home = _kafka_home()
    if home is not None:
        libs = home / "libs"
        if not any(libs.glob("kafka_2.*.jar")):
            raise KafkaRuntimeError(f"KAFKA_HOME is set to {home} but {libs} holds no kafka_2.*.jar")
        return libs

    version = kafka_version()
    lib = jars_dir(version)
    if _jars_complete(lib, version):
        return lib

    mvn = shutil.which("mvn")
    if not mvn:
        raise KafkaRuntimeError(
            f"Apache Kafka {version} jars are not cached in {lib} and Maven was not found "
            "(no `mvn` on PATH) to download them. Install Maven (e.g. `apt-get install maven`), "
            "set KAFKA_HOME to an unpacked Kafka distribution, or point KAFKA_BOOTSTRAP at a running broker."
        )
    lib.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="lib.partial-", dir=lib.parent))
    try:
        try:
            result = subprocess.run(
                [
                    mvn, "-q", "-B", "-f", str(POM_PATH),
                    "dependency:copy-dependencies",
                    "-DincludeScope=runtime",
                    f"-DoutputDirectory={staging}",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=MVN_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.output.decode(errors="replace") if isinstance(exc.output, bytes) else (exc.output or "")
            raise KafkaRuntimeError(
                f"Maven did not finish downloading Apache Kafka {version} within {MVN_TIMEOUT_S} s.\n{_tail(out)}"
            ) from None
        if result.returncode != 0:
            raise KafkaRuntimeError(
                f"Maven failed (exit {result.returncode}) to download Apache Kafka {version} jars:\n"
                f"{_tail(result.stdout) or '(no output)'}"
            )
        if not _jars_complete(staging, version):
            raise KafkaRuntimeError(
                f"Maven succeeded but the Apache Kafka {version} jars are not all there "
                f"(expected {', '.join(_required_jars(version))} and a logging backend)"
            )
        if lib.exists():  # an incomplete folder from an older, non-atomic copy
            shutil.rmtree(lib)
        try:
            staging.rename(lib)
        except OSError:
            if not _jars_complete(lib, version):  # not simply a concurrent download that won
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return lib


# --------------------------------------------------------------------------- ports and config


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on ``host:port`` and a server could bind it now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # the JVM binds its listeners with SO_REUSEADDR; test the same way
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK, exclude: Iterable[int] = ()) -> int:
    """A loopback port that is free right now (chosen by the kernel, then re-checked)."""
    excluded = set(exclude)
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in excluded and port_is_free(port, host):
            return port
    raise KafkaRuntimeError(f"could not find a free port on {host}")


def server_properties(data_dir: Path, port: int, controller_port: int) -> dict[str, str]:
    """The configuration of one combined KRaft node (broker and controller) on loopback."""
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{LOOPBACK}:{controller_port}",
        "listeners": f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir / "data"),
        "num.partitions": "6",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "3",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "delete.topic.enable": "true",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        "log.retention.hours": "168",
    }


def _write_properties(path: Path, props: Mapping[str, str], header: str) -> None:
    body = "".join(f"{key}={value}\n" for key, value in props.items())
    path.write_text(f"# {header}\n{body}", encoding="utf-8")


def read_properties(path: Path) -> dict[str, str]:
    props: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = value.strip()
    return props


def _log4j_properties(log_file: Path) -> dict[str, str]:
    return {
        "log4j.rootLogger": "INFO, file",
        "log4j.appender.file": "org.apache.log4j.RollingFileAppender",
        "log4j.appender.file.File": str(log_file),
        "log4j.appender.file.MaxFileSize": "20MB",
        "log4j.appender.file.MaxBackupIndex": "2",
        "log4j.appender.file.layout": "org.apache.log4j.PatternLayout",
        "log4j.appender.file.layout.ConversionPattern": "[%d] %p %m (%c)%n",
        "log4j.logger.org.apache.kafka.clients": "WARN",
        "log4j.logger.kafka.request.logger": "WARN",
    }


def default_data_dir() -> Path:
    """``$ARIANE_VAR_DIR/kafka``; ARIANE_VAR_DIR defaults to ``.var`` under the current directory."""
    var = os.environ.get("ARIANE_VAR_DIR", "").strip()
    return (Path(var) if var else Path.cwd() / ".var") / "kafka"


# --------------------------------------------------------------------------- processes


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():  # a zombie is not running
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return True
    return True


def _pid_is_broker(pid: int, config: Path) -> bool:
    """The pid is alive and (where /proc tells) runs kafka.Kafka on this config file."""
    if not _pid_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return b"kafka.Kafka" in args and str(config).encode() in args


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --------------------------------------------------------------------------- the broker


def _exit_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when the process that started it dies."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the test teardown remains the only stop
        pass


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
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

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

    @property
    def ports_path(self) -> Path:
        return self.data_dir / "ports.json"

    def _previous_ports(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.ports_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    # state
    def read_state(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _live_state(self) -> dict[str, Any] | None:
        state = self.read_state()
        if state is None:
            return None
        pid = state.get("pid")
        if self._proc is not None and self._proc.pid == pid and self._proc.poll() is not None:
            return None
        if isinstance(pid, int) and _pid_is_broker(pid, self.config_path):
            return state
        return None

    def is_running(self) -> bool:
        return self._live_state() is not None

    # lifecycle
    def start(self, timeout: float = 60) -> str:
        """Start the broker (or reuse the live one) and return its bootstrap once it answers."""
        began = time.monotonic()
        state = self._live_state()
        if state is not None:
            self._adopt(state)
            wait_ready(self.bootstrap, timeout=timeout)
            self.start_seconds = time.monotonic() - began
            return self.bootstrap

        java = _which_java()
        lib = ensure_jars()
        self.version = runtime_version()
        classpath = str(lib / "*")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._choose_ports(self.read_state() or self._previous_ports())

        assert self.port is not None and self.controller_port is not None
        _write_properties(
            self.config_path,
            server_properties(self.data_dir, self.port, self.controller_port),
            f"single-node KRaft broker, Apache Kafka {self.version}; rewritten on every start",
        )
        log4j = self.data_dir / "log4j.properties"
        _write_properties(log4j, _log4j_properties(self.server_log), "broker logging")
        self._format_storage(java, classpath)

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
                preexec_fn=_exit_with_parent if self.die_with_parent else None,
            )
        self.pid = self._proc.pid
        self._write_state()
        try:
            wait_ready(self.bootstrap, timeout=max(1.0, timeout - (time.monotonic() - began)), alive=self._alive)
        except KafkaRuntimeError:
            self.stop(timeout=10)
            raise
        self.start_seconds = time.monotonic() - began
        return self.bootstrap

    def stop(self, timeout: float = 30) -> bool:
        """SIGTERM the broker this runtime started, wait, SIGKILL only after ``timeout``. True if one ran."""
        state = self._live_state()
        pid = state["pid"] if state else None
        if pid is None and self._proc is not None and self._proc.poll() is None:
            pid = self._proc.pid
        stopped = False
        if pid is not None:
            self._signal(pid, signal.SIGTERM)
            if not self._wait_exit(pid, timeout):
                self._signal(pid, signal.SIGKILL)
                self._wait_exit(pid, 10)
            stopped = True
        if self._proc is not None:
            try:
                self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None
        if self.port is not None and self.controller_port is not None:
            # Remembered so a restart comes back on the same address: clients keep the one they had.
            self.ports_path.write_text(json.dumps({"port": self.port, "controller_port": self.controller_port}) + "\n",
                                       encoding="utf-8")
        self.state_path.unlink(missing_ok=True)
        self.pid = None
        return stopped

    # internals
    def _adopt(self, state: Mapping[str, Any]) -> None:
        self.pid = int(state["pid"])
        self.port = int(state["port"])
        self.controller_port = int(state["controller_port"])
        self.version = str(state.get("version") or runtime_version())

    def _choose_ports(self, stale: Mapping[str, Any] | None) -> None:
        """Requested ports must be free; else reuse the previous run's ports if free; else pick new ones."""
        stale = stale or {}
        chosen: list[int] = []
        for requested, previous in (
            (self._requested_port, stale.get("port")),
            (self._requested_controller_port, stale.get("controller_port")),
        ):
            if requested is not None:
                if requested in chosen or not port_is_free(requested):
                    raise KafkaRuntimeError(f"port {LOOPBACK}:{requested} is already in use; choose another one")
                chosen.append(requested)
            elif isinstance(previous, int) and previous not in chosen and port_is_free(previous):
                chosen.append(previous)
            else:
                chosen.append(free_port(exclude=chosen))
        self.port, self.controller_port = chosen

    def _format_storage(self, java: str, classpath: str) -> None:
        if (self.data_dir / "data" / "meta.properties").exists():
            return
        cluster_id_file = self.data_dir / "cluster.id"
        if cluster_id_file.exists():
            cluster_id = cluster_id_file.read_text(encoding="utf-8").strip()
        else:
            cluster_id = self._storage_tool(java, classpath, ["random-uuid"]).strip().splitlines()[-1]
            cluster_id_file.write_text(cluster_id + "\n", encoding="utf-8")
        self._storage_tool(
            java, classpath, ["format", "-t", cluster_id, "-c", str(self.config_path), "--ignore-formatted"]
        )

    def _storage_tool(self, java: str, classpath: str, args: list[str]) -> str:
        log4j = self.data_dir / "log4j.properties"
        result = subprocess.run(
            [java, "-Xmx256m", f"-Dlog4j.configuration=file:{log4j}", "-cp", classpath,
             "kafka.tools.StorageTool", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False,
        )
        if result.returncode != 0:
            raise KafkaRuntimeError(
                f"kafka StorageTool {args[0]} failed (exit {result.returncode}):\n{_tail(result.stdout)}"
            )
        return result.stdout

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
                parts.append(_tail(path.read_text(encoding="utf-8", errors="replace"), 15))
            except OSError:
                pass
        return "\n".join(p for p in parts if p) or "(no output)"

    def _write_state(self) -> None:
        state = {
            "pid": self.pid,
            "bootstrap": self.bootstrap,
            "port": self.port,
            "controller_port": self.controller_port,
            "version": self.version,
            "started_at": time.time(),
        }
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.state_path)

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                try:
                    self._proc.wait(timeout=0.1)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not _pid_alive(pid):
                return True
            time.sleep(0.1)
        return not _pid_alive(pid)

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- clients


def _admin(bootstrap: str, request_timeout_ms: int = 10000) -> Any:
    from aiokafka.admin import AIOKafkaAdminClient

    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=request_timeout_ms)


async def _probe(bootstrap: str) -> bool:
    admin = _admin(bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        await admin.list_topics()
        return bool(cluster.get("brokers"))
    finally:
        await admin.close()


async def wait_ready_async(bootstrap: str, timeout: float = 60, alive: Any = None) -> None:
    """Wait until an admin client gets cluster metadata with a broker in it from ``bootstrap``."""
    import logging

    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # connection refused is expected while the JVM starts
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    try:
        while True:
            if alive is not None:
                alive()
            try:
                if await asyncio.wait_for(_probe(bootstrap), timeout=max(0.5, min(5.0, deadline - time.monotonic()))):
                    return
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
                last = exc
            if time.monotonic() >= deadline:
                raise KafkaRuntimeError(
                    f"Kafka at {bootstrap} did not answer within {timeout:.0f} s"
                    + (f" (last error: {type(last).__name__}: {last})" if last else "")
                )
            await asyncio.sleep(0.25)
    finally:
        quiet.setLevel(level)


def wait_ready(bootstrap: str, timeout: float = 60, alive: Any = None) -> None:
    _run(wait_ready_async(bootstrap, timeout=timeout, alive=alive))


async def _human_errors(bootstrap: str, coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro``; a client failure becomes one KafkaRuntimeError line instead of a stack trace."""
    import logging

    from aiokafka.errors import KafkaError

    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        return await coro
    except (KafkaError, OSError, asyncio.TimeoutError) as exc:
        raise KafkaRuntimeError(f"the Kafka broker at {bootstrap} does not answer: {type(exc).__name__}: {exc}") from exc
    finally:
        quiet.setLevel(level)


def _topic_partitions(metadata_topics: list[dict[str, Any]]) -> dict[str, int]:
    return {
        t["topic"]: len(t["partitions"])
        for t in metadata_topics
        if t.get("error_code", 0) == 0 and not t.get("is_internal", False) and not t["topic"].startswith("__")
    }


async def create_topics(bootstrap: str, wanted: Mapping[str, int], timeout: float = 30) -> list[str]:
    """Create each ``name -> partitions`` topic that does not exist yet (waiting for their leaders).

    Idempotent; returns the names it created. Client failures raise KafkaRuntimeError.
    """
    return await _human_errors(bootstrap, _create_topics(bootstrap, wanted, timeout))


async def _create_topics(bootstrap: str, wanted: Mapping[str, int], timeout: float) -> list[str]:
    from aiokafka.admin import NewTopic

    admin = _admin(bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, partitions, 1) for name, partitions in wanted.items() if name not in existing]
        created: list[str] = []
        if missing:
            response = await admin.create_topics(missing, timeout_ms=int(timeout * 1000))
            errors = []
            for entry in response.topic_errors:
                name, code = entry[0], entry[1]
                if code == 0:
                    created.append(name)
                elif code != TOPIC_ALREADY_EXISTS:
                    message = entry[2] if len(entry) > 2 else ""
                    errors.append(f"{name}: error {code} {message or ''}".strip())
            if errors:
                raise KafkaRuntimeError("could not create topics: " + "; ".join(errors))
        # creation is acknowledged by the controller; wait until the broker serves leaders for all of them
        deadline = time.monotonic() + timeout
        names = list(wanted)
        while True:
            topics = await admin.describe_topics(names)
            ready = all(
                t.get("error_code", 0) == 0 and t["partitions"] and all(p[0] == 0 and p[2] >= 0 for p in _parts(t))
                for t in topics
            ) and len(topics) == len(names)
            if ready:
                return created
            if time.monotonic() >= deadline:
                raise KafkaRuntimeError(f"topics {names} have no leader after {timeout:.0f} s")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def _parts(topic: Mapping[str, Any]) -> list[tuple[int, int, int]]:
    """(error_code, partition, leader) for each partition of a metadata topic entry."""
    out = []
    for p in topic["partitions"]:
        if isinstance(p, Mapping):
            out.append((p.get("error_code", 0), p.get("partition_index", p.get("partition", 0)), p.get("leader_id", p.get("leader", -1))))
        else:
            out.append((p[0], p[1], p[2]))
    return out


def topic_plan(partitions: int = 6, prefix: str = "") -> dict[str, int]:
    """Every topic of the system (names prefixed by ``prefix``) with its partition count; the clock gets 1."""
    return {prefix + name: (1 if name in SINGLE_PARTITION_TOPICS else partitions) for name in ALL_TOPICS}


async def ensure_topics(bootstrap: str, partitions: int = 6, prefix: str = "", timeout: float = 30) -> list[str]:
    """Create ALL_TOPICS that are absent (the clock with one partition); idempotent. Returns those created.

    ``prefix`` gives a private namespace of the same topics (e.g. one per test on a shared broker).
    """
    created = await create_topics(bootstrap, topic_plan(partitions, prefix), timeout=timeout)
    await wait_coordinators(bootstrap, timeout=timeout)
    return created


async def wait_coordinators(bootstrap: str, timeout: float = 30) -> None:
    """Wait until the group and transaction coordinators answer.

    On a fresh broker the internal offsets and transaction-state topics are created on first use; until
    then coordinator look-ups fail, and aiokafka's transactional offset commit can stall instead of
    retrying. Asking once for each coordinator here creates those topics and waits for their leaders.
    """
    from aiokafka.errors import KafkaError

    admin = _admin(bootstrap)
    await admin.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        for coordinator_type in (0, 1):  # 0: consumer groups, 1: transactions
            while True:
                try:
                    await admin.find_coordinator("ariane-warm-up", coordinator_type)
                    break
                except KafkaError as exc:
                    if asyncio.get_running_loop().time() > deadline:
                        raise KafkaRuntimeError(f"Kafka at {bootstrap}: coordinators not available: {exc}") from exc
                    await asyncio.sleep(0.2)
    finally:
        await admin.close()


def ensure_topics_sync(bootstrap: str, partitions: int = 6, prefix: str = "", timeout: float = 30) -> list[str]:
    """:func:`ensure_topics` for synchronous callers (the CLI, session fixtures)."""
    return _run(ensure_topics(bootstrap, partitions, prefix, timeout))


@dataclass(frozen=True)
class BrokerDescription:
    bootstrap: str
    version: str
    topics: dict[str, int] = field(default_factory=dict)
    local: bool = False


# newest API key a Kafka release added, newest first: a lower bound when nothing better is known
_API_MARKERS = ((80, "3.9"), (75, "3.8"), (74, "3.7"), (68, "3.6"), (60, "3.0"), (57, "2.7"))


async def _version_from_api(bootstrap: str) -> str:
    from aiokafka.conn import create_conn

    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    conn = await create_conn(host or LOOPBACK, int(port), request_timeout_ms=5000)
    try:
        keys = set(getattr(conn, "_versions", {}) or {})
    finally:
        conn.close()
    produce = (getattr(conn, "_versions", {}) or {}).get(0)
    if produce is not None and produce[0] >= 3:
        return "Apache Kafka >= 4.0 (from API versions)"
    for key, release in _API_MARKERS:
        if key in keys:
            return f"Apache Kafka >= {release} (from API versions)"
    return "Apache Kafka (version unknown)"


async def describe(bootstrap: str, data_dir: Path | None = None) -> BrokerDescription:
    """Broker version and every (non-internal) topic with its partition count.

    The version comes from ``data_dir/broker.json`` when ``bootstrap`` is that local
    broker, else a lower bound is inferred from the API versions the broker offers.
    """
    return await _human_errors(bootstrap, _describe(bootstrap, data_dir))


async def _describe(bootstrap: str, data_dir: Path | None) -> BrokerDescription:
    state = LocalKafka(data_dir or default_data_dir())._live_state()
    local = state is not None and state.get("bootstrap") == bootstrap
    admin = _admin(bootstrap)
    try:
        await admin.start()
        topics = _topic_partitions(await admin.describe_topics())
    finally:
        await admin.close()
    if local:
        version = f"Apache Kafka {state['version']}"
    else:
        try:
            version = await _version_from_api(bootstrap)
        except Exception as exc:  # noqa: BLE001 - the version is informative only
            version = f"Apache Kafka (version unknown: {exc})"
    return BrokerDescription(bootstrap=bootstrap, version=version, topics=dict(sorted(topics.items())), local=local)


def describe_sync(bootstrap: str, data_dir: Path | None = None) -> BrokerDescription:
    """:func:`describe` for synchronous callers."""
    return _run(describe(bootstrap, data_dir))


def resolve_bootstrap(data_dir: Path | None = None) -> str | None:
    """``KAFKA_BOOTSTRAP`` if set, else the bootstrap of a running local broker in ``data_dir``, else None."""
    env = os.environ.get("KAFKA_BOOTSTRAP", "").strip()
    if env:
        return env
    state = LocalKafka(data_dir or default_data_dir())._live_state()
    return str(state["bootstrap"]) if state else None


__all__ = [
    "BrokerDescription",
    "KafkaRuntimeError",
    "LocalKafka",
    "default_data_dir",
    "create_topics",
    "describe",
    "describe_sync",
    "ensure_jars",
    "ensure_topics",
    "ensure_topics_sync",
    "free_port",
    "jars_dir",
    "kafka_version",
    "port_is_free",
    "read_properties",
    "resolve_bootstrap",
    "runtime_version",
    "server_properties",
    "topic_plan",
    "wait_ready",
]
