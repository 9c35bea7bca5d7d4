"""One service of the local pipeline run under cProfile, for the benchmark's --profile.

The supervisor starts each service as `python -m <module>` (local/supervisor.py); for the chosen service this
becomes `python -m cProfile -o <file> -m <module>`, and the profile is written when the service stops (the
pipeline stops it with SIGTERM, and it leaves on its own). cProfile sees the service's main thread: the event
loop, the handlers, parsing and the ORM; the async SQLite driver runs its statements on a worker thread, whose
time shows as waits in the loop.
"""

from __future__ import annotations

import io
import pstats
from pathlib import Path

from local import supervisor


def profile_service(service: str, out_dir: Path) -> None:
    """From now on, every start of `service` by a supervisor in this process writes a profile in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plain = supervisor.service_argv
    starts = iter(range(1, 1000))

    def argv(name: str) -> list[str]:
        command = plain(name)
        if name != service:
            return command
        return [command[0], "-m", "cProfile", "-o", str(out_dir / f"{name}-{next(starts)}.prof"), *command[1:]]

    supervisor.service_argv = argv


def top(path: Path, lines: int = 25) -> str:
    """The functions taking the most time of their own, then the most time with what they call."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()
