"""Runtime settings from the environment (ARIANE_ prefix), shared by every service."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class RuntimeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_", extra="ignore")

    var_dir: Path = Field(default=Path(".var"), description="Where SQLite files, Kafka data and pid files live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL. Unset: one SQLite file per service under var_dir. "
        "postgresql+asyncpg://... to use PostgreSQL (every service in one database, tables prefixed by service).",
    )
    kafka_bootstrap: str | None = Field(default=None, description="host:port of the broker; KAFKA_BOOTSTRAP also works.")
    # Who the Kafka clients are (services.runtime.kafka_security says how these combine).
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] | None = Field(
        default=None, description="Unset: SASL_PLAINTEXT when credentials are known, else PLAINTEXT.")
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_username: str | None = Field(default=None, description="SASL user; wins over a credentials directory.")
    kafka_password: SecretStr | None = None
    kafka_credentials_dir: Path | None = Field(
        default=None, description="A directory of <principal>.json credentials, as the local broker writes them.")
    kafka_principal: str | None = Field(
        default=None, description="Principal looked up in the credentials directory instead of the service's name.")
    credentials_file: Path | None = Field(
        default=None, description="The credentials book every HTTP API checks keys against (written by `ariane "
        "structures`). Unset: var_dir/credentials.json. A missing file means no keys: every call is refused.")
    log_json: bool = True
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, ge=1, le=65535, description="Unset: the service's own default port.")
    ops_port: int | None = Field(
        default=None, ge=0, le=65535,
        description="Also answer /health, /health/live, /health/ready and /metrics on this port, from a thread of "
        "their own rather than the event loop (services/runtime/ops_server.py): point the orchestrator's probes "
        "and the metrics scraper here. Unset: they are answered on the API port only.")
    ops_loop_dead_after_s: float = Field(
        default=30.0, gt=0,
        description="On the operations port, an event loop that has not turned for this long makes every probe "
        "fail (the process is stuck, restart it). Far above any hold measured under load (under 0.5 s).")
    topic_prefix: str = Field(default="", description="Prepended to every topic name; lets tests share one broker.")

    consumer_batch_max: int = Field(default=500, ge=1, description="Records handled in one database transaction.")
    consumer_poll_ms: int = Field(default=200, ge=1)
    consumer_fetch_max_wait_ms: int = Field(default=50, ge=1, le=5000,
                                            description="How long the broker may hold a fetch with no data.")
    consumer_session_timeout_ms: int = Field(
        default=10000, ge=6000, description="How long a dead consumer holds its partitions before a rebalance.")
    handler_max_attempts: int = Field(default=5, ge=1, description="Tries of a transient failure before dead-lettering.")
    retry_base_delay_s: float = Field(default=0.1, gt=0)
    retry_max_delay_s: float = Field(default=5.0, gt=0)
    relay_batch_max: int = Field(default=500, ge=1)
    relay_idle_s: float = Field(default=0.05, gt=0, description="Pause of the outbox relay when nothing is pending.")
    retry_after_s: int = Field(default=5, ge=1, description="Retry-After of a 503 caused by an outage.")
    event_loop: Literal["auto", "asyncio", "uvloop"] = Field(
        default="auto",
        description="The event loop the service runs on. auto: uvloop when it is installed (it is a dependency), "
        "else asyncio's own. asyncio is the way back should uvloop misbehave on a platform.")
    http_parser: Literal["auto", "h11", "httptools"] = Field(
        default="auto",
        description="How the API port parses HTTP. auto: httptools (C) when installed (a dependency), else h11 "
        "(pure Python).")
    gil_switch_interval_s: float = Field(
        default=0.0005, gt=0,
        description="How long a thread may keep the interpreter's lock while another waits for it (seconds). The "
        "event loop shares the lock with the database driver's thread: each time the loop makes a system call "
        "the driver's thread may take the lock and keep it this long. Python's own 5 ms let /health/live, "
        "answered from memory, wait 140-360 ms at p99 under a paced load; 0.5 ms, 60-180 ms (bench/README.md).")
    loop_stall_trace_s: float = Field(
        default=0.0, ge=0,
        description="Diagnosis: log where the event loop was whenever it is held longer than this (seconds); "
        "0 leaves it off. Its lag and the collector's pauses are measured either way (/metrics).")
    max_record_bytes: int = Field(
        default=900_000, ge=1024,
        description="Largest record the relay sends (value, key and headers). Keep it below the broker's "
        "message.max.bytes (1,048,588 by default) and the producer's max_request_size (1 MiB): a larger outbox "
        "row is set aside as a small dead letter instead of blocking every row behind it.")

    def topic(self, name: str) -> str:
        """The physical topic name of a logical one from contracts.topics."""
        return f"{self.topic_prefix}{name}"

    def database_url_for(self, service: str) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.var_dir / f'{service}.db').resolve()}"

    def credentials_path(self) -> Path:
        """Where the credentials book is: ARIANE_CREDENTIALS_FILE, else credentials.json in the var dir."""
        return self.credentials_file if self.credentials_file is not None else self.var_dir / "credentials.json"

    def bootstrap(self) -> str:
        """The broker to talk to: explicit setting, KAFKA_BOOTSTRAP, else the local broker started by `ariane kafka`."""
        if self.kafka_bootstrap:
            return self.kafka_bootstrap
        if os.environ.get("KAFKA_BOOTSTRAP"):
            return os.environ["KAFKA_BOOTSTRAP"]
        found = self._local_broker_address(self.var_dir / "kafka" / "broker.json")
        if not found:
            raise RuntimeError("no Kafka broker: run `ariane kafka start` or set KAFKA_BOOTSTRAP")
        return found

    @staticmethod
    def _local_broker_address(path: Path) -> str | None:
        """The address a local broker publishes while it runs: a JSON object with at least ``bootstrap``
        (host:port) and ``pid`` (the broker's process). Read by path and format, so the runtime needs no
        tooling; a file whose pid is gone is what a killed broker left behind, and names no broker."""
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            bootstrap, pid = str(state["bootstrap"]), int(state["pid"])
        except (OSError, ValueError, TypeError, KeyError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, only not ours to signal
        return bootstrap
