"""How promptly `ariane run all`'s supervisor keeps its state file, with a child crash-looping beside the others.

    python bench/bench_supervisor.py [--seconds 10] [--burners 2]

Two phases of `--seconds` each, on the same machine load (`--burners` processes spinning on the CPU in both):

- baseline: the supervisor (local/supervisor.py, its loop as `ariane run all` runs it, tick 0.1 s) with three
  children that just sleep;
- crash loop: the same, plus a child that exits at once at every start, restarted on a short schedule (0.05 s
  doubling to 0.4 s) so that it is started again several times a second.

A reader process (an operator's `ariane run status`, without the CLI's start-up) reads and renders the state
file every 50 ms meanwhile. Printed, per phase: the loop's period (p50, p99, max), the reader's time to an
answer (read + render, p99) and how old the answer was (now minus the file's `updated_at`, p99: in the baseline
nothing changes, so the file is only rewritten each second and its age is that heartbeat's); then the crash
loop's figures as ratios of the baseline's, and the wall time of the whole commands an operator types
(`python -m local.run_state`, and `ariane run status` with the CLI's imports). Writes bench/results/supervisor-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import load_average, write_result  # noqa: E402
from local import run_state  # noqa: E402
from local.restarts import RestartPolicy  # noqa: E402
from local.supervisor import Supervisor  # noqa: E402
from services.runtime.backoff import Backoff  # noqa: E402

PYTHON = [sys.executable, "-I", "-S", "-c"]
SLEEPER = [*PYTHON, "import time; time.sleep(3600)"]
CRASHER = [*PYTHON, "import sys; sys.exit(3)"]
BURNER = [*PYTHON, "while True: pass"]
READER = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from local import run_state
path, until = sys.argv[1], float(sys.argv[2])
answers, ages = [], []
while time.time() < until:
    t0 = time.perf_counter()
    state = run_state.read(__import__("pathlib").Path(path))
    if state is not None:
        run_state.render(state)
        answers.append(time.perf_counter() - t0)
        ages.append(time.time() - __import__("datetime").datetime.fromisoformat(state["updated_at"]).timestamp())
    time.sleep(0.05)
print(json.dumps({"answers": answers, "ages": ages}))
"""


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"n": len(ordered), "p50_ms": round(q[49] * 1000, 1), "p99_ms": round(q[98] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def phase(run_dir: Path, seconds: float, crash: bool) -> dict[str, Any]:
    commands = {f"sleeper{i}": SLEEPER for i in range(1, 4)}
    if crash:
        commands["crasher"] = CRASHER
    policy = RestartPolicy(backoff=Backoff(base_s=0.05, ceiling_s=0.4), healthy_after_s=60)
    state_file = run_state.path_in(run_dir)
    supervisor = Supervisor(list(commands), run_dir / "logs", dict(os.environ), commands=commands, policy=policy,
                            state_file=state_file)
    supervisor.start()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(state_file), str(time.time() + seconds),
                               str(Path(__file__).resolve().parent.parent)], stdout=subprocess.PIPE, text=True)
    stop = threading.Event()
    threading.Timer(seconds, stop.set).start()
    supervisor.run(stop, echo=lambda note: None)
    commands_wall: dict[str, list[float]] = {}
    if crash:  # the whole commands, as an operator types them (the children still run; the loop has stopped)
        env = dict(os.environ, ARIANE_VAR_DIR=str(run_dir))
        for label, argv, times in (("python -m local.run_state", ["-m", "local.run_state"], 5),
                                   ("ariane run status", ["-m", "cli.main", "run", "status"], 1)):
            for _ in range(times):
                t0 = time.perf_counter()
                subprocess.run([sys.executable, *argv], env=env, capture_output=True, timeout=120,
                               cwd=Path(__file__).resolve().parent.parent)
                commands_wall.setdefault(label, []).append(round(time.perf_counter() - t0, 3))
    restarts = {child.name: child.restarts for child in supervisor.children}
    supervisor.stop(timeout=10)
    read = json.loads(reader.communicate(timeout=60)[0])
    return {"loop_period": quantiles(list(supervisor.loop_periods)), "status_answer": quantiles(read["answers"]),
            "status_age": quantiles(read["ages"]), "restarts": restarts,
            "commands_wall_s": commands_wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burners", type=int, default=2)
    args = parser.parse_args()
    load_start = load_average()
    burners = [subprocess.Popen(BURNER) for _ in range(args.burners)]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-supervisor-") as scratch:
            baseline = phase(Path(scratch) / "baseline", args.seconds, crash=False)
            crash = phase(Path(scratch) / "crash", args.seconds, crash=True)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    ratios = {f"{figure}_p99": round(crash[figure]["p99_ms"] / max(baseline[figure]["p99_ms"], 0.001), 2)
              for figure in ("loop_period", "status_answer", "status_age")}
    for name, result in (("baseline", baseline), ("crash loop", crash)):
        print(f"{name:<10} loop period {result['loop_period']}  status answer {result['status_answer']}  "
              f"answer age {result['status_age']}  restarts {result['restarts']}")
    print(f"crash loop / baseline, p99: {ratios}")
    print(f"whole commands, wall time (s): {crash['commands_wall_s']}; "
          f"load average {load_start} -> {load_average()}, {args.burners} burner(s)")
    path = write_result("supervisor", {"seconds": args.seconds, "burners": args.burners, "baseline": baseline,
                                       "crash_loop": crash, "ratios": ratios,
                                       "machine": {"load_average_start": load_start}})
    print(f"written {path}")


if __name__ == "__main__":
    main()
