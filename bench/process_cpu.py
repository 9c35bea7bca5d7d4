"""CPU time each process of a run spent in a timed window, read from the kernel's accounting.

The pipeline benchmark says how fast the whole pipeline went; this says which process the two cores worked for
meanwhile (each service, the broker, the benchmark itself, the /health prober), as CPU milliseconds per partner
event. Elapsed times move with the machine's other load; a process's CPU time for the same work moves much less,
so it is the figure that shows which stage to make cheaper.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of `pid` (all its threads) so far; None when it cannot be read (gone, not
    Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: fields are counted after its ')'.
    fields = text[text.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _TICKS_PER_S


@dataclass
class CpuMeter:
    """CPU seconds of named processes between `start` and `stop`. A process that cannot be read at either end
    (it restarted, or is not on this machine) is left out rather than guessed."""

    pids: dict[str, int | None]
    _before: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._before = {name: s for name, pid in self.pids.items()
                        if pid is not None and (s := cpu_seconds(pid)) is not None}

    def stop(self) -> dict[str, float]:
        for name, before in self._before.items():
            pid = self.pids[name]
            after = cpu_seconds(pid) if pid is not None else None
            if after is not None:
                self.spent[name] = round(after - before, 3)
        return self.spent

    def per_event_ms(self, events: int) -> dict[str, float]:
        return {name: round(1000 * s / events, 3) for name, s in self.spent.items()} if events else {}
