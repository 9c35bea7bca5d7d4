"""Where the services of `ariane run all` are and how they are doing: one JSON file in the run's var dir.

The supervisor rewrites it (whole, by rename: a reader never sees half a file) whenever a child starts or exits
and at least every second otherwise. Everything that wants to know reads the file, never asks the supervisor:
`ariane run status`, the commands that call a service (cli/api_client.py takes the service's URL from it), an
operator with `cat` or `jq`. So an answer never waits for the supervisor, however busy the machine, and the file
says how fresh it is (`updated_at`) and whether the supervisor is still there (`supervisor.pid`, `stopped_at`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FILE_NAME = "services.json"
# Older than this while the supervisor claims to run: it is stuck or was killed without a word.
STALE_AFTER_S = 10.0


def path_in(var_dir: Path) -> Path:
    return var_dir / FILE_NAME


def write(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    os.replace(scratch, path)


def read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def iso(wall: float | None) -> str | None:
    return None if wall is None else datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="milliseconds")


def _wall(text: str | None) -> float | None:
    return None if not text else datetime.fromisoformat(text).timestamp()


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, someone else's
    return True


def supervisor_state(state: dict[str, Any], now: float | None = None) -> str:
    """`running`, `stopped` (it wrote so on leaving), `gone` (its process no longer exists) or `stale` (it exists
    but has not written for STALE_AFTER_S: stuck, or its pid was reused)."""
    now = time.time() if now is None else now
    supervisor = state.get("supervisor", {})
    if supervisor.get("stopped_at"):
        return "stopped"
    if not pid_alive(supervisor.get("pid")):
        return "gone"
    updated = _wall(state.get("updated_at"))
    if updated is None or now - updated > STALE_AFTER_S:
        return "stale"
    return "running"


def service_url(var_dir: Path, name: str) -> str | None:
    """The URL of `name` as the running supervisor of `var_dir` placed it; None when no supervisor runs there
    (then the caller falls back to the service's usual address)."""
    state = read(path_in(var_dir))
    if state is None or supervisor_state(state) in ("stopped", "gone"):
        return None
    for service in state.get("services", []):
        if service.get("name") == name and service.get("url"):
            return str(service["url"])
    return None


def render(state: dict[str, Any], now: float | None = None) -> tuple[str, bool]:
    """The status as an operator reads it, and whether everything is up (every service running, the supervisor
    too)."""
    now = time.time() if now is None else now
    supervisor = state.get("supervisor", {})
    how = supervisor_state(state, now)
    updated = _wall(state.get("updated_at"))
    age = f"{now - updated:.1f} s ago" if updated is not None else "never"
    loop = supervisor.get("loop_p99_ms")
    loop_text = f", its loop's p99 period {loop:.0f} ms" if loop is not None else ""
    lines = [f"supervisor pid {supervisor.get('pid')}: {how} (written {age}{loop_text})"]
    all_up = how == "running"
    for s in state.get("services", []):
        where = s.get("url") or "-"
        line = f"{s['name']:<10} {s['state']:<13} pid {s.get('pid') or '-':<8} {where:<24} restarts {s['restarts']}"
        if s.get("last_exit_code") is not None or s["state"] in ("backing_off", "crash_looping"):
            line += f", last exit {s.get('last_exit_code')}"
        if s.get("quick_exits"):
            line += f", {s['quick_exits']} quick exit(s) in a row"
        next_at = _wall(s.get("next_start_at"))
        if next_at is not None:
            line += f", next start in {max(0.0, next_at - now):.0f} s"
        if s["state"] == "crash_looping":
            line += f"; see {s.get('log')}"
        lines.append(line)
        all_up = all_up and s["state"] == "running"
    return "\n".join(lines), all_up


def main(argv: list[str]) -> int:
    """`python -m local.run_state [VAR_DIR]`: `ariane run status` without the CLI's start-up (a second or more of
    imports on a loaded machine); the same output and exit codes."""
    var_dir = Path(argv[0]) if argv else Path(os.environ.get("ARIANE_VAR_DIR", ".var"))
    state = read(path_in(var_dir))
    if state is None:
        print(f"no `ariane run all` state in {path_in(var_dir)}", file=sys.stderr)
        return 2
    text, all_up = render(state)
    print(text)
    return 0 if all_up else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
