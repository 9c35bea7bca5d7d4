"""The files a local broker leaves in its data dir so that other processes find it again.

``broker.json`` exists while the broker runs (written at start, removed at stop). It is the broker's
published address: services read it by path and format, without importing this package. Format, a JSON object::

    {"pid": 12345,                  # the broker's JVM (kafka.Kafka on <data_dir>/server.properties)
     "bootstrap": "127.0.0.1:40123", # what clients pass as bootstrap servers
     "port": 40123, "controller_port": 40124,
     "version": "3.9.1",            # Apache Kafka version of the jars it runs
     "started_at": 1718000000.0}    # Unix time

A file whose pid is no longer alive is stale (the broker was killed): readers ignore it.

``ports.json`` (``{"port": ..., "controller_port": ...}``) is written at stop and survives it, so that a
restarted broker comes back on its previous ports when they are still free.

``credentials/<principal>.json`` (``{"username", "password", "mechanism"}``, files 0600 in a 0700 directory)
are written at the first start and kept: they are what clients log in with (services.runtime.kafka_security
reads them by path and format). ``server.properties`` holds the admin's and the controller's passwords: 0600.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

STATE_FILE = "broker.json"
PORTS_FILE = "ports.json"


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(path: Path, *, pid: int, bootstrap: str, port: int, controller_port: int, version: str) -> None:
    """Write ``broker.json`` atomically: a reader never sees half a file."""
    state = {
        "pid": pid,
        "bootstrap": bootstrap,
        "port": port,
        "controller_port": controller_port,
        "version": version,
        "started_at": time.time(),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def remember_ports(path: Path, port: int, controller_port: int) -> None:
    path.write_text(json.dumps({"port": port, "controller_port": controller_port}) + "\n", encoding="utf-8")
