"""Any route meeting a database or broker outage answers 503 with Retry-After; any other failure stays a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from services.runtime.transient_503 import TransientIs503


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/locked")
    async def locked() -> dict:
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    @app.get("/bug")
    async def bug() -> dict:
        raise KeyError("not an outage")

    @app.get("/fine")
    async def fine() -> dict:
        return {"ok": True}

    app.add_middleware(TransientIs503, retry_after_s=7)
    return app


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(), raise_app_exceptions=False),
                             base_url="http://service")


async def test_an_outage_is_a_503_telling_when_to_come_back():
    async with _client() as client:
        response = await client.get("/locked")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"] == "temporarily_unavailable"


async def test_a_bug_stays_a_500_and_a_good_answer_is_untouched():
    async with _client() as client:
        bug, fine = await client.get("/bug"), await client.get("/fine")
    assert bug.status_code == 500
    assert (fine.status_code, fine.json()) == (200, {"ok": True})


async def test_an_answer_already_begun_is_not_replaced():
    # The status line is out: a second answer would break the protocol, so the failure goes up to the server,
    # which closes the connection.
    sent: list[dict] = []

    async def half_an_answer(scope, receive, send):  # noqa: ANN001, ANN202
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        raise ConnectionError("the broker went away mid-answer")

    async def record(message: dict) -> None:
        sent.append(message)

    with pytest.raises(ConnectionError):
        await TransientIs503(half_an_answer, retry_after_s=7)({"type": "http"}, None, record)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
