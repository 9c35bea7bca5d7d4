"""How long an event loop is held at a time, and by what: a lag probe and a watchdog that samples the stalls.

    async with LoopStalls(threshold_s=0.03) as stalls:
        ...  # the work to watch, on this loop
    print(stalls.summary())

The probe is a task that sleeps `tick_s` and records how late it wakes: the worst and p99 of those delays are
how long anything else on the loop (/health, the relay) may have waited for a turn. A watchdog thread looks every
few ms at when the probe last woke; when the loop has been held longer than `threshold_s`, it takes the loop
thread's stack (sys._current_frames), so each stall comes with where the loop was at that moment. Stacks are
tallied by their innermost frames of this project (and the library frame under them), not by whole stack.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
from collections import Counter

from services.runtime.loop_watch import where_held


class LoopStalls:
    def __init__(self, tick_s: float = 0.005, threshold_s: float = 0.03, sample_every_s: float = 0.005) -> None:
        self.tick_s, self.threshold_s, self.sample_every_s = tick_s, threshold_s, sample_every_s
        self.delays: list[float] = []
        self.steps: list[tuple[float, str]] = []  # (CPU seconds, from where to where) of the long task steps
        self._original_run = None
        self.cpu_delays: list[float] = []
        self.where: Counter[str] = Counter()  # a stack's summary -> how many watchdog samples found it held
        self._last_wake = time.perf_counter()
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._loop_thread = 0
        # Only while this is True (set by the caller around the work it means): a tool's own set-up between two
        # pieces of work (building the next records) is not what is measured.
        self.watching = True
        # The garbage collector's passes, by generation: a pass holds the GIL, so the watchdog cannot sample it.
        self.gc_seconds: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._gc_started = 0.0

    def _patch_handles(self) -> None:
        """Time each callback the loop runs in the CPU time of its thread; for a task's step longer than
        `threshold_s`, note where the task was suspended before the step and where after it: the stretch of
        code that held the loop, whatever the machine's load did to the wall clock."""
        original = self._original_run = asyncio.events.Handle._run
        stalls = self

        def _run(handle: asyncio.events.Handle) -> None:
            if not stalls.watching:
                return original(handle)
            task = getattr(handle._callback, "__self__", None)
            before = _suspended_at(task) if isinstance(task, asyncio.Task) else "-"
            started = time.thread_time()
            try:
                return original(handle)
            finally:
                spent = time.thread_time() - started
                if spent >= stalls.threshold_s:
                    after = _suspended_at(task) if isinstance(task, asyncio.Task) and not task.done() else "done"
                    stalls.steps.append((spent, f"{before}  ->  {after}"))

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]

    async def __aenter__(self) -> LoopStalls:
        self._loop_thread = threading.get_ident()
        self._last_wake = time.perf_counter()
        self._task = asyncio.create_task(self._probe())
        self._thread = threading.Thread(target=self._watch, daemon=True, name="loop-stall-watchdog")
        self._thread.start()
        gc.callbacks.append(self._on_gc)
        self._patch_handles()
        return self

    def _on_gc(self, phase: str, info: dict) -> None:
        if not self.watching:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_seconds[info["generation"]].append(time.perf_counter() - self._gc_started)

    async def __aexit__(self, *_: object) -> None:
        self._stop.set()
        gc.callbacks.remove(self._on_gc)
        asyncio.events.Handle._run = self._original_run  # type: ignore[method-assign]
        if self._task is not None:
            self._task.cancel()
        if self._thread is not None:
            self._thread.join()

    def reset(self) -> None:
        """Forget what was seen so far (a run's setup: imports, migrations), keep watching."""
        self.delays.clear()
        self.cpu_delays.clear()
        self.steps.clear()
        self.where.clear()
        for passes in self.gc_seconds.values():
            passes.clear()

    async def _probe(self) -> None:
        while True:
            asked, cpu_asked, watched = time.perf_counter(), time.thread_time(), self.watching
            await asyncio.sleep(self.tick_s)
            woke = time.perf_counter()
            if watched and self.watching:  # a turn that began before the watching did is the caller's set-up
                late = max(0.0, woke - asked - self.tick_s)
                self.delays.append(late)
                # The part of that lateness the loop's thread spent running (its CPU time meanwhile): what this
                # process held the loop with, as opposed to waiting for a core on a loaded machine.
                self.cpu_delays.append(min(late, time.thread_time() - cpu_asked))
            self._last_wake = woke

    def _watch(self) -> None:
        while not self._stop.wait(self.sample_every_s):
            if not self.watching or time.perf_counter() - self._last_wake < self.threshold_s:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            try:
                self.where[_summary(frame)] += 1
            except Exception:  # noqa: BLE001 - the frame moved on while being read: this sample is lost only
                continue

    def summary(self, top: int = 12) -> str:
        delays = sorted(self.delays)
        if not delays:
            return "no probe turn"
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        held = sum(self.where.values()) * self.sample_every_s
        lines = [f"loop lag over {len(delays)} probe turns: p50 {delays[len(delays) // 2] * 1000:.1f} ms, "
                 f"p99 {p99 * 1000:.1f} ms, worst {delays[-1] * 1000:.1f} ms; "
                 f"held > {self.threshold_s * 1000:.0f} ms for about {held:.2f} s in all, by:"]
        cpu = sorted(self.cpu_delays)
        lines.append(f"  of which the loop's thread was running (CPU): p99 "
                     f"{cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))] * 1000:.1f} ms, worst {cpu[-1] * 1000:.1f} ms")
        for generation, passes in self.gc_seconds.items():
            if passes:
                lines.append(f"  gc generation {generation}: {len(passes)} passes, worst {max(passes) * 1000:.1f} ms, "
                             f"{sum(passes) * 1000:.0f} ms in all")
        by_stretch: dict[str, list[float]] = {}
        for spent, stretch in self.steps:
            by_stretch.setdefault(stretch, []).append(spent)
        lines.append(f"  task steps over {self.threshold_s * 1000:.0f} ms of CPU: {len(self.steps)}; the longest, "
                     "from where the task was suspended to where it next was:")
        for stretch, spent in sorted(by_stretch.items(), key=lambda kv: -max(kv[1]))[:top]:
            lines.append(f"    {len(spent)}x worst {max(spent) * 1000:.0f} ms: {stretch}")
        lines.append("  where the watchdog found the loop held (wall clock):")
        for where, n in self.where.most_common(top):
            lines.append(f"  {n * self.sample_every_s * 1000:8.0f} ms  {where}")
        return "\n".join(lines)


def _summary(frame) -> str:  # noqa: ANN001 - a frame object
    return where_held(frame)


def _suspended_at(task: asyncio.Task) -> str:
    """The innermost of the project's frames of a task's suspended coroutine chain."""
    coro = task.get_coro()
    where = "start"
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None and "site-packages" not in frame.f_code.co_filename:
            where = f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}:{frame.f_code.co_name}"
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return where
