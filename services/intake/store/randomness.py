"""OS randomness for nonces, data keys and delivery ids, read from the kernel 4 KiB at a time.

`os.urandom` lets go of the interpreter's lock around its system call, and taking it back waits for whichever
other thread took it meanwhile (the SQLite driver's worker threads, the Kafka client's). A new person costs
three reads (a data key and two nonces), so under load intake's event loop was held up to 2.1 s admitting a
group of registrations, most samples in `vault._seal` (a pipeline run with the loop-stall tracer). Slicing a
buffer keeps the lock: one system call per 4 KiB instead of one per nonce. The bytes are the kernel's, unchanged;
each is handed out once, and a forked child starts with an empty buffer so that it never repeats its parent's.
"""

from __future__ import annotations

import os
import threading

_CHUNK = 4096


class RandomPool:
    def __init__(self, chunk: int = _CHUNK) -> None:
        self._chunk = chunk
        self._lock = threading.Lock()  # the vault is used from the event loop, but never hand out bytes twice
        self._buffer = b""
        self._at = 0

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._at + n > len(self._buffer):
                self._buffer, self._at = os.urandom(max(self._chunk, n)), 0
            out = self._buffer[self._at:self._at + n]
            self._at += n
            return out

    def forget(self) -> None:
        """Drop what is buffered (after a fork: the child must not hand out the parent's bytes again)."""
        with self._lock:
            self._buffer, self._at = b"", 0


POOL = RandomPool()
os.register_at_fork(after_in_child=POOL.forget)


def random_bytes(n: int) -> bytes:
    return POOL.take(n)
