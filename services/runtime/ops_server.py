"""The operations port: /health, /health/live, /health/ready and /metrics answered by a thread, not the event loop.

Why a port of its own: on the API port a probe waits for its turn on the service's one event loop, behind the
consumer's batch, the relay and every partner's request. Under a paced 500 events/s intake's /health/live,
answered from memory, still waited 76-160 ms at p99 for that turn (bench/README.md), and a probe with a
one-second timeout would call a merely busy service dead. Here a probe waits only for the interpreter's lock,
which the loop gives up every ARIANE_GIL_SWITCH_INTERVAL_S (0.5 ms).

The answers are the API port's (services/runtime/probes.py), built from what the loop keeps in memory: the store's
latest reading (never a fresh one, which would need the loop), the tasks, the relay, the consumer. One thing
more: how long ago the loop last turned. A loop held longer than ARIANE_OPS_LOOP_DEAD_AFTER_S makes every probe
fail, so a stuck process is still restarted (on the API port such a probe gets no answer at all).

Bounded: at most `max_connections` connections at once (a monitoring system keeps one or two); one more is
closed at once. An idle keep-alive connection is closed after `idle_timeout_s`.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog

log = structlog.get_logger("ariane.ops")

JSON = "application/json"
# (status, body, content type): what a route gives back.
Reply = tuple[int, bytes, str]
Route = Callable[[], Reply]


def json_reply(status: int, body: Mapping[str, Any]) -> Reply:
    return status, json.dumps(body).encode(), JSON


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a prober asking every 100 ms reuses its connection
    server: _Server

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout_s  # read by StreamRequestHandler.setup: an idle connection ends
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        route = self.server.routes.get(self.path.split("?", 1)[0])
        try:
            status, body, content_type = route() if route else json_reply(404, {"detail": "Not Found"})
        except Exception as exc:  # noqa: BLE001 - a probe that cannot be answered says so; the server goes on
            log.warning("ops_probe_failed", path=self.path, error=f"{type(exc).__name__}: {exc}"[:300])
            status, body, content_type = json_reply(503, {"detail": f"could not answer: {type(exc).__name__}"})
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass  # a probe every 100 ms is not news; failures are logged above


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a connection left open never holds the process at exit
    block_on_close = False

    def __init__(self, address: tuple[str, int], routes: Mapping[str, Route], max_connections: int,
                 idle_timeout_s: float) -> None:
        self.routes, self.idle_timeout_s = dict(routes), idle_timeout_s
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, _Handler)

    def process_request(self, request: socket.socket, client_address: Any) -> None:  # type: ignore[override]
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # over the bound: closed, not queued behind the others
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: Any) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class OperationsServer:
    """Serves `routes` (path -> Route) on host:port from a daemon thread until `stop`."""

    def __init__(self, host: str, port: int, routes: Mapping[str, Route], *, max_connections: int = 16,
                 idle_timeout_s: float = 30.0) -> None:
        self._server = _Server((host, port), routes, max_connections, idle_timeout_s)  # binds now: a taken port fails
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="operations-port", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> OperationsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
