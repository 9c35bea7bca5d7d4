"""What a keyed digest costs intake's event loop when another thread of the process is busy.

    python bench/keyed_digest_gil.py [--calls 2000]

`hmac.digest` lets go of the interpreter's lock around its OpenSSL call and must wait to take it back; intake's
`keyed_digest.hmac_sha256_hex` (an HMAC keyed once, copied per message) keeps it. Each is timed alone, then
while a second thread spins in Python, as the SQLite driver's and the Kafka client's threads do under load. The
baseline is the same call alone, in the same run; prints µs per call and the ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.intake.domain.keyed_digest import hmac_sha256_hex  # noqa: E402

SECRET = b"territory-secret-for-the-benchmark-0123"
MESSAGE = b"erased-event-id\x1fmission_locale_angevine\x1fevt-2026-000123"


def timed(work: Callable[[], object], calls: int) -> tuple[float, int]:
    """Mean µs per call, and how many calls took over 1 ms (they lost the lock to the other thread and waited
    for the interpreter's switch interval, 5 ms by default, to have it back)."""
    slow, began = 0, time.perf_counter()
    for _ in range(calls):
        start = time.perf_counter()
        work()
        slow += time.perf_counter() - start > 0.001
    return (time.perf_counter() - began) / calls * 1e6, slow


def measure(calls: int) -> dict[str, tuple[tuple[float, int], tuple[float, int]]]:
    ways: dict[str, Callable[[], object]] = {
        "hmac.digest": lambda: hmac.digest(SECRET, MESSAGE, hashlib.sha256),
        "keyed_digest.hmac_sha256_hex": lambda: hmac_sha256_hex(SECRET, MESSAGE),
    }
    alone = {name: timed(work, calls) for name, work in ways.items()}
    stop = threading.Event()

    def spin() -> None:
        n = 0
        while not stop.is_set():
            n += 1

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        beside = {name: timed(work, calls) for name, work in ways.items()}
    finally:
        stop.set()
        spinner.join()
    return {name: (alone[name], beside[name]) for name in ways}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print(f"{args.calls} calls each; µs per call (calls over 1 ms)")
    for name, ((alone, slow_alone), (beside, slow_beside)) in measure(args.calls).items():
        print(f"{name:30} alone {alone:7.1f} ({slow_alone})   beside a busy thread {beside:7.1f} ({slow_beside})"
              f"   ×{beside / alone:.1f}")


if __name__ == "__main__":
    main()
