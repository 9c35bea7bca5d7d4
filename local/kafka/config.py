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


def _jaas(module: str, username: str, password: str, **users: str) -> str:
    extra = "".join(f' user_{name}="{secret}"' for name, secret in users.items())
    return f'{module} required username="{username}" password="{password}"{extra};'


def server_properties(data_dir: Path, port: int, controller_port: int, *, admin: tuple[str, str],
                      controller: tuple[str, str]) -> dict[str, str]:
    """The configuration of one combined KRaft node (broker and controller) on loopback, secured.

    Clients and the node itself (inter-broker) authenticate with SASL/SCRAM-SHA-512 on the CLIENT listener; the
    controller listener takes SASL PLAIN for one static user only the node knows (KRaft cannot check SCRAM
    there); StandardAuthorizer denies what no ACL allows. ``admin`` and ``controller`` are (username, password):
    both are super users. The file holds passwords: write it owner-only.
    """
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{LOOPBACK}:{controller_port}",
        "listeners": f"CLIENT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"CLIENT://{LOOPBACK}:{port}",
        "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "CLIENT",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.client.scram-sha-512.sasl.jaas.config": _jaas(scram, *admin),
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": _jaas(plain, *controller, **{controller[0]: controller[1]}),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{admin[0]};User:{controller[0]}",
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
    """Write a properties file readable by its owner only (a broker's holds passwords)."""
    body = "".join(f"{key}={value}\n" for key, value in props.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"# {header}\n{body}")
    path.chmod(0o600)


def read_properties(path: Path) -> dict[str, str]:
    props: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = value.strip()
    return props
