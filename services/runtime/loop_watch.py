"""Keep a service's event loop answering, and show when it does not.

/health, /metrics, the API, the consumer and the relay all share one event loop: whatever holds it holds them all.
Two things here:

- The heap built at start-up (modules, classes, the ORM's mappers, pydantic's validators: about 140,000 objects
  in followup) is frozen out of the garbage collector (`freeze_startup_heap`). A full collection walks every
  tracked object while holding the loop: 80-90 ms for that heap alone on a two-core machine, up to 380 ms with
  a large live heap (bench/apply_profile.py --stalls), and it comes back whenever enough new objects have
  survived, as they do under load. Frozen objects are never walked again; they were never garbage anyway.
- `LoopWatch` wakes every `tick_s` and records how late it woke (`ariane_event_loop_lag_seconds`), which is the
  wait any request had for its turn at that moment, and the collector's passes (`ariane_gc_pause_seconds`).
  With a trace threshold set (ARIANE_LOOP_STALL_TRACE_S), a thread looks at the loop every few ms and, when
  it has been held longer than that, notes where; the stall is logged with those places once the loop is back
  (a diagnosis tool: off by default).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

import structlog
from prometheus_client import Histogram

log = structlog.get_logger("ariane.loop")

_PROJECT = str(Path(__file__).resolve().parents[2])


_collected = False


def freeze_startup_heap() -> None:
    """Collect, then move every object alive now to the collector's permanent generation (see above): after
    start-up and before serving, the collection is the last one that walks this heap. A process that starts
    several services (tests) collects at the first only; each start freezes what it built."""
    global _collected
    if not _collected:
        gc.collect()
        _collected = True
    gc.freeze()


class LoopWatch:
    def __init__(self, service: str, lag: Histogram, gc_pause: Histogram, *, tick_s: float = 0.05,
                 trace_over_s: float = 0.0) -> None:
        self.service, self.lag, self.gc_pause = service, lag, gc_pause
        self.tick_s, self.trace_over_s = tick_s, trace_over_s
        self._gc_started = 0.0
        self._last_wake = time.perf_counter()
        self._places: Counter[str] = Counter()  # where the tracer found the loop held, since the last wake
        self._lock = threading.Lock()

    async def run(self, stop: asyncio.Event) -> None:
        gc.callbacks.append(self._on_gc)
        tracer = None
        if self.trace_over_s > 0:
            tracer = threading.Thread(target=self._trace, args=(threading.get_ident(), stop), daemon=True,
                                      name="loop-stall-tracer")
            tracer.start()
        try:
            while not stop.is_set():
                asked = time.perf_counter()
                await asyncio.sleep(self.tick_s)
                self._last_wake = woke = time.perf_counter()
                late = max(0.0, woke - asked - self.tick_s)
                self.lag.labels(self.service).observe(late)
                if tracer is not None and late >= self.trace_over_s:
                    with self._lock:
                        places, self._places = self._places, Counter()
                    log.warning("event_loop_held", held_ms=round(late * 1000, 1),
                                where=[f"{n}x {place}" for place, n in places.most_common(5)])
        finally:
            gc.callbacks.remove(self._on_gc)

    def turned_s_ago(self) -> float:
        """How long ago the loop last woke this watch (any thread may ask): about `tick_s` while it turns."""
        return max(0.0, time.perf_counter() - self._last_wake)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pause.labels(self.service, str(info["generation"])).observe(time.perf_counter() - self._gc_started)

    def _trace(self, loop_thread: int, stop: asyncio.Event) -> None:
        every = min(0.005, self.trace_over_s / 4)
        while not stop.is_set():
            time.sleep(every)
            if time.perf_counter() - self._last_wake < self.tick_s + self.trace_over_s:
                continue
            frame = sys._current_frames().get(loop_thread)
            if frame is None:
                continue
            try:
                place = where_held(frame)
            except Exception:  # noqa: BLE001 - the frame moved on while being read: this sample is lost, not the tracer
                continue
            with self._lock:
                self._places[place] += 1


def where_held(frame) -> str:  # noqa: ANN001 - a frame object
    """The innermost three frames of the project's own code, and the library function they were in."""
    stack = traceback.extract_stack(frame, limit=60)
    ours = [n for n, f in enumerate(stack) if f.filename.startswith(_PROJECT) and "site-packages" not in f.filename]
    if not ours:
        return " < ".join(f"{Path(f.filename).name}:{f.name}" for f in stack[-3:][::-1])
    inner = ours[-1]
    text = " < ".join(f"{Path(stack[n].filename).name}:{stack[n].lineno}:{stack[n].name}" for n in ours[-3:][::-1])
    if inner + 1 < len(stack):
        text = f"[{Path(stack[-1].filename).name}:{stack[-1].name}] < {text}"
    return text
