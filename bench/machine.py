"""What the benchmarks ran on, and writing their results: every result names its machine and its load."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    return {"nproc": os.cpu_count(), "memory_gib": _memory_gib(), "cpu": _cpu_model(),
            "python": sys.version.split()[0], "platform": platform.platform(), "load_average": load_average()}


def rss_mib() -> float:
    """This process's resident set size now (from /proc), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_result(name: str, result: dict[str, Any], out_dir: Path = RESULTS) -> Path:
    """bench/results/<name>-<UTC time>.json, with the machine and its load at the end of the run."""
    now = datetime.now(timezone.utc)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    body = {"benchmark": name, "finished_at": now.isoformat(timespec="seconds"), **result,
            "machine": {**machine(), **result.get("machine", {})}}
    path.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
