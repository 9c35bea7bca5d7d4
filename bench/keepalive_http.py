"""A lean HTTP/1.1 client for the benchmark's load: persistent connections, one request at a time on each.

Why not httpx, as everywhere else: at a paced 500 events/s the benchmark's partner client took about 0.8 ms of
CPU per event, on the same two cores as the pipeline it measures, and three quarters of that was httpcore's
connection pool: on every request and every release it walks all its connections and asks the kernel whether
each socket is readable (64 connections, hundreds of requests a second). A load generator that eats the cores
it measures makes the pipeline look slower than it is. This client keeps its idle connections on a stack and
reads only what the benchmark uses of an answer: the status, the headers, and a body sized by Content-Length,
by chunks, or by the connection's end. Plain HTTP on loopback only: no TLS, no redirects, no proxies.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class TransportError(Exception):
    """No whole answer: the connection could not be made, failed, closed early, or the answer took too long."""


class _ClosedBeforeAnswering(Exception):
    """The server had closed a kept connection before this request reached it (its keep-alive ran out)."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: Mapping[str, str]  # names in lower case
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class KeepAliveClient:
    def __init__(self, base_url: str, *, max_connections: int = 64, timeout_s: float = 120.0,
                 idle_expiry_s: float = 2.0):
        url = urlsplit(base_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"a plain http:// URL is needed, not {base_url!r}")
        self.host, self.port, self.prefix = url.hostname, url.port or 80, url.path.rstrip("/")
        self.timeout_s = timeout_s
        # Dropped by the client before the server's own keep-alive (uvicorn's: 5 s) can close them under it.
        self.idle_expiry_s = idle_expiry_s
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[tuple[_Connection, float]] = []  # most recently used last

    async def post(self, path: str, *, content: bytes, headers: Mapping[str, str]) -> Answer:
        return await self.request("POST", path, content, headers)

    async def get(self, path: str, headers: Mapping[str, str] | None = None) -> Answer:
        return await self.request("GET", path, b"", headers or {})

    async def request(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        head = (f"{method} {self.prefix}{path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n"
                f"content-length: {len(body)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
        payload = head.encode("latin-1") + body
        async with self._slots:
            connection = self._take_idle()
            if connection is not None:
                try:
                    return await self._exchange(connection, payload)
                except _ClosedBeforeAnswering:
                    # Closed by the server while idle (its keep-alive ran out): the request goes again, on a new
                    # connection. Should the server have taken it before a reset, intake answers `duplicate`.
                    pass
            try:
                return await self._exchange(await self._connect(), payload)
            except _ClosedBeforeAnswering as exc:
                raise TransportError("the server closed a new connection without answering") from exc

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection, since = self._idle.pop()
            if now - since < self.idle_expiry_s and not connection[0].at_eof():
                return connection
            connection[1].close()
        return None

    async def _connect(self) -> _Connection:
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout_s)
        except (OSError, asyncio.TimeoutError) as exc:
            raise TransportError(f"cannot connect to {self.host}:{self.port}: {exc!r}") from exc

    async def _exchange(self, connection: _Connection, payload: bytes) -> Answer:
        reader, writer = connection
        kept = False
        try:
            writer.write(payload)
            answer, keep = await asyncio.wait_for(_read_answer(reader), self.timeout_s)
            if keep:
                self._idle.append((connection, time.monotonic()))
                kept = True
            return answer
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise _ClosedBeforeAnswering from exc
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ValueError) as exc:
            raise TransportError(f"no whole answer from {self.host}:{self.port}: {exc!r}") from exc
        finally:
            if not kept:
                writer.close()

    async def aclose(self) -> None:
        while self._idle:
            (_, writer), _ = self._idle.pop()
            writer.close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """One answer from `reader`, and whether the connection can carry another request."""
    status_line = await reader.readline()
    if not status_line:
        raise _ClosedBeforeAnswering
    version, status, _ = status_line.decode("latin-1").split(" ", 2)
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1 answer: {status_line[:40]!r}")
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n"):
        if not line:
            raise asyncio.IncompleteReadError(b"", None)
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    code = int(status)
    keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
    if "content-length" in headers:
        content = await reader.readexactly(int(headers["content-length"]))
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        content = await _read_chunks(reader)
    elif code in (204, 304) or 100 <= code < 200:
        content = b""
    else:  # the body runs to the connection's end
        content, keep = await reader.read(), False
    return Answer(code, headers, content), keep


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        line = await reader.readline()
        if not line:
            raise asyncio.IncompleteReadError(b"", None)
        size = int(line.split(b";", 1)[0].strip(), 16)  # ValueError if it is not a chunk's size
        if size == 0:
            break
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)  # the CRLF after each chunk
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass  # trailers, unused
    return b"".join(parts)
