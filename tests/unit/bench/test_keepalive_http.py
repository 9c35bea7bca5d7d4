"""The benchmark's lean HTTP client against a real uvicorn server on loopback: what it reads of an answer, that
it keeps its connections and reuses them, that a connection the server closed while idle costs no request,
and that a server which is not there is a TransportError (which the partner client counts and retries)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.keepalive_http import KeepAliveClient, TransportError

peers: set[int] = set()  # the client ports the server saw: one per connection


async def echo(request: Request) -> Response:
    assert request.client is not None
    peers.add(request.client.port)
    body = await request.json()
    return JSONResponse({"got": body, "key": request.headers.get("authorization")}, status_code=202,
                        headers={"Retry-After": "3"})


async def streamed(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            yield part

    return StreamingResponse(parts())  # no Content-Length: chunked


APP = Starlette(routes=[Route("/events", echo, methods=["POST"]), Route("/stream", streamed)])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server() -> AsyncIterator[str]:
    port = _free_port()
    # The server's keep-alive is short, so that a test can let it close a kept connection.
    served = uvicorn.Server(uvicorn.Config(APP, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_keep_alive=1))
    task = asyncio.create_task(served.serve())
    while not served.started:
        await asyncio.sleep(0.01)
    peers.clear()
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    await task


async def test_an_answer_is_read_whole_its_status_headers_and_body(server: str) -> None:
    client = KeepAliveClient(server)
    try:
        answer = await client.post("/events", content=b'[{"id": "e-1"}]', headers={
            "authorization": "Bearer k", "content-type": "application/json"})
        assert answer.status_code == 202
        assert answer.headers["retry-after"] == "3"  # names in lower case, as the partner client asks
        assert answer.json() == {"got": [{"id": "e-1"}], "key": "Bearer k"}
        assert (await client.get("/stream")).content == b"one,two,three"
        assert (await client.get("/nowhere")).status_code == 404
    finally:
        await client.aclose()


async def test_many_requests_at_once_share_at_most_the_allowed_connections(server: str) -> None:
    client = KeepAliveClient(server, max_connections=4)
    try:
        answers = await asyncio.gather(*(client.post("/events", content=str(i).encode(), headers={})
                                         for i in range(200)))
        assert [a.json()["got"] for a in answers] == list(range(200))  # each answer is its own request's
        assert 1 <= len(peers) <= 4
    finally:
        await client.aclose()


async def test_a_connection_the_server_closed_while_idle_costs_no_request(server: str) -> None:
    client = KeepAliveClient(server, idle_expiry_s=60.0)  # kept longer than the server keeps it
    try:
        assert (await client.post("/events", content=b"1", headers={})).json()["got"] == 1
        await asyncio.sleep(1.5)  # the server's keep-alive (1 s) closes it
        assert (await client.post("/events", content=b"2", headers={})).json()["got"] == 2
        assert len(peers) == 2  # the second request went on a new connection
    finally:
        await client.aclose()


async def test_a_server_that_is_not_there_is_a_transport_error() -> None:
    client = KeepAliveClient(f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(TransportError, match="cannot connect"):
        await client.get("/health")


def test_only_plain_http_urls() -> None:
    with pytest.raises(ValueError, match="plain http"):
        KeepAliveClient("https://127.0.0.1:8443")
