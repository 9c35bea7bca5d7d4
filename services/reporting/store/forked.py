"""A pure function of what this process holds, run on another core: in a forked child, its result pickled back.

The replay's report is computed from the folded state while the same state is encoded and written to the store.
Both are Python work: in a thread they take turns at the interpreter's lock, so the report added its whole time
to the replay's. A forked child has its own interpreter and sees the state as it is at the fork (the pages are
shared until written), so the two run side by side and only the report, a few kilobytes, crosses back.

The cost: the fork (about 10 ms for a 5,000-person year) and the pages the child touches (reading an object
writes its reference count, so the pages of the state it walks are copied: memory up to twice the state's
while the report runs). Where there is no fork (not POSIX), or the machine has one core, the function runs in
a thread instead, as before.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_RESULT, _RAISED = b"R", b"E"  # the first byte the child writes: what the pickle after it is


def can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _child(fn: Callable[..., Any], args: tuple, write_fd: int) -> None:
    """In the child: run, write the outcome (a tag, then the pickled result or exception), and leave at once (no
    atexit, no flushing of the parent's buffers, no finalizers: the event loop, sockets and database connections
    are the parent's). The outcome says itself what it is, so the parent does not depend on reading the exit
    status (another part of the process may reap children)."""
    try:
        try:
            payload = _RESULT + pickle.dumps(fn(*args), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
            try:
                payload = _RAISED + pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an exception that cannot be pickled: its text
                payload = _RAISED + pickle.dumps(RuntimeError(repr(exc)), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(0)


def start_forked(fn: Callable[..., T], *args: Any, in_child: bool = True) -> asyncio.Future[T]:
    """Start `fn(*args)` in a forked child (or a thread, where forking does not help or `in_child` is False) and
    return a future of its result, which raises what `fn` raised. Called from a coroutine (the future is the
    running loop's)."""
    if not (in_child and can_fork()):
        return asyncio.ensure_future(asyncio.to_thread(fn, *args))
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():
        # Python 3.12+ warns that a fork of a process with threads may deadlock in the child: on a lock another
        # thread held at the fork. The child here runs a pure function of plain data (no logging, no I/O, no
        # driver) and leaves by os._exit, so it takes no such lock.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_fd)
        _child(fn, args, write_fd)
    os.close(write_fd)

    async def outcome() -> T:
        try:
            payload = await asyncio.to_thread(_read_all, read_fd)
        finally:
            os.close(read_fd)
        try:
            _, status = await asyncio.to_thread(os.waitpid, pid, 0)
            ended = f"ended with {os.waitstatus_to_exitcode(status)}"
        except ChildProcessError:  # reaped by another part of the process: the outcome alone tells
            ended = "ended"
        tag, body = payload[:1], payload[1:]
        if tag == _RAISED:
            raise pickle.loads(body)
        if tag != _RESULT:
            raise RuntimeError(f"the child computing {getattr(fn, '__name__', fn)} {ended} without an answer")
        return pickle.loads(body)

    return asyncio.ensure_future(outcome())
