"""The operations server's own promises: bounded connections, idle ones closed, a failing probe answered 503."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from services.runtime.ops_server import OperationsServer, json_reply

REQUEST = b"GET /health HTTP/1.1\r\nHost: ops\r\n\r\n"


def failing() -> tuple[int, bytes, str]:
    raise RuntimeError("dictionary changed size during iteration")


@contextmanager
def server(**options: float) -> Iterator[OperationsServer]:
    routes = {"/health": lambda: json_reply(200, {"status": "ok"}), "/broken": failing}
    ops = OperationsServer("127.0.0.1", 0, routes, **options).start()  # type: ignore[arg-type]
    try:
        yield ops
    finally:
        ops.stop()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def answer(conn: socket.socket, request: bytes = REQUEST) -> bytes:
    """One request on a kept connection and its whole answer ("" when the server closed the connection)."""
    conn.sendall(request)
    head = b""
    while b"\r\n\r\n" not in head:
        try:
            chunk = conn.recv(4096)
        except ConnectionResetError:
            return b""
        if not chunk:
            return b""
        head += chunk
    header, _, body = head.partition(b"\r\n\r\n")
    lines = header.split(b"\r\n")
    length = int(next(line.split(b":")[1] for line in lines if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += conn.recv(4096)
    return header + b"\r\n\r\n" + body


def test_a_connection_beyond_the_bound_is_closed_and_a_freed_slot_serves_again() -> None:
    with server(max_connections=2) as ops:
        first, second = connect(ops.port), connect(ops.port)
        assert answer(first).startswith(b"HTTP/1.1 200") and answer(second).startswith(b"HTTP/1.1 200")
        third = connect(ops.port)  # the kernel accepts it; the server closes it at once
        assert answer(third) == b""
        assert answer(first).startswith(b"HTTP/1.1 200")  # the kept ones are still served
        first.close()
        for _ in range(100):  # the slot is freed when its thread sees the close
            fourth = connect(ops.port)
            served = answer(fourth)
            fourth.close()
            if served:
                break
            time.sleep(0.02)
        assert served.startswith(b"HTTP/1.1 200")
        second.close()
        third.close()


def test_an_idle_kept_connection_is_closed() -> None:
    with server(idle_timeout_s=0.2) as ops:
        conn = connect(ops.port)
        assert answer(conn).startswith(b"HTTP/1.1 200")
        time.sleep(0.6)
        assert answer(conn) == b""
        conn.close()


def test_a_probe_that_fails_is_a_503_and_the_next_one_is_served() -> None:
    with server() as ops:
        conn = connect(ops.port)
        broken = answer(conn, b"GET /broken HTTP/1.1\r\nHost: ops\r\n\r\n")
        assert broken.startswith(b"HTTP/1.1 503") and b"could not answer: RuntimeError" in broken
        assert answer(conn, b"GET /nope HTTP/1.1\r\nHost: ops\r\n\r\n").startswith(b"HTTP/1.1 404")
        assert answer(conn).startswith(b"HTTP/1.1 200")
        conn.close()
