"""Long synchronous folds give the event loop a turn now and then.

A handler that folds many items without waiting on anything (a day tick deciding again for every person due)
keeps the event loop for the whole fold: /health, /metrics, the relay and the API wait until it ends. Calling
`await turns.maybe()` between two items lets them run whenever `every_s` has passed since the last turn given;
it never changes what is folded, in what order, nor the transaction it is folded in.

Why 3 ms and not 10: a request needs several turns of the loop to be answered (read, route, the store reading's
wait, write), and under load each of those turns can wait behind every busy task's stretch (the consumer's batch,
the relay, intake's admissions) one after the other. With 10-ms stretches, /health's 99th percentile at a paced
500 events/s was 119-139 ms on intake and 115-208 ms on followup; with 3-ms stretches 81-112 and 92-166 ms, in
five alternated pairs on the same machine (bench/README.md, the sixth stop of 2026-12-02). A turn given costs
one pass of the loop, tens of microseconds: no more CPU per event was measured.
"""

from __future__ import annotations

import asyncio

EVERY_S = 0.003  # the longest a fold keeps the loop to itself: the processor's batches, the relay's sends, ticks


class Turns:
    def __init__(self, every_s: float = EVERY_S) -> None:
        self.every_s = every_s
        self._since: float | None = None

    async def maybe(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._since is None:
            self._since = now
        elif now - self._since > self.every_s:
            await asyncio.sleep(0)
            self._since = asyncio.get_running_loop().time()
