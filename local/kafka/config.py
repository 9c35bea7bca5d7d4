"""The files a broker reads: one combined KRaft node on loopback, its logging, and where its data lives."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

LOOPBACK = "127.0.0.1"


def default_data_dir() -> Path:
    """``$ARIANE_VAR_DIR/kafka``; ARIANE_VAR_DIR defaults to ``.var`` under the current directory."""
    var = os.environ.get("ARIANE_VAR_DIR", "").strip()
    return (Path(var) if var else Path.cwd() / ".var") / "kafka"


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


def log4j_properties(log_file: Path) -> dict[str, str]:
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


def write_properties(path: Path, props: Mapping[str, str], header: str) -> None:
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
