"""The broker's JVM as an operating-system process: finding java, telling whether a pid is our broker, signals."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from local.kafka.errors import KafkaRuntimeError


def which_java() -> str:
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


def pid_alive(pid: int) -> bool:
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


def pid_is_broker(pid: int, config: Path) -> bool:
    """The pid is alive and (where /proc tells) runs kafka.Kafka on this config file."""
    if not pid_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return b"kafka.Kafka" in args and str(config).encode() in args


def send_signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def exit_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when the process that started it dies."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the test teardown remains the only stop
        pass
