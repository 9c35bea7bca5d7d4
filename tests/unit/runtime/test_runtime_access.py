"""The bearer dependency every API uses, seen from a caller: 401 to authenticate, 403 for a role or structure."""

from __future__ import annotations

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from services.runtime.access import Principal, principal_from, require_role, require_structure
from services.runtime.credentials import CredentialsBook


def app(book: CredentialsBook) -> FastAPI:
    api = FastAPI()
    api.state.book = book
    caller = principal_from(lambda request: request.app.state.book)

    @api.get("/referrals")
    async def referrals(to: str | None = None, who: Principal = Depends(caller)) -> dict:
        require_role(who, "coordinator", "partner", "counsellor")
        return {"to": to if who.role == "coordinator" else require_structure(who, to, "referrals")}

    @api.get("/report")
    async def report(request: Request, who: Principal = Depends(caller)) -> dict:
        return {"role": require_role(who, "coordinator", "auditor").role}

    return api


async def get(book: CredentialsBook, path: str, token: str | None = None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app(book)), base_url="http://test") as client:
        return await client.get(path, headers=headers, params=params)


@pytest.fixture
def book(tmp_path) -> CredentialsBook:
    return CredentialsBook(tmp_path / "credentials.json")


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer "}, {"Authorization": "Basic dG9rLW1sOg=="}, {"Authorization": "ak_x.y"},
    {"Authorization": "Bearer ak_0123456789ab.not-issued"}, {"Authorization": "Bearer a-token-of-the-old-kind"},
], ids=["none", "empty", "basic", "no-scheme", "unknown", "old-kind"])
async def test_no_or_a_wrong_key_is_401_with_a_challenge(book, headers):
    book.issue("coordinator", "coordination_territoriale")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app(book)), base_url="http://test") as client:
        response = await client.get("/report", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_revoked_key_is_401_from_its_next_request(book):
    issued = book.issue("auditor", "angers-loire-metropole")
    api = app(book)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://test") as client:
        auth = {"Authorization": f"Bearer {issued.token}"}
        assert (await client.get("/report", headers=auth)).status_code == 200
        CredentialsBook(book.path).revoke(issued.entry.key_id)  # another process, the same file
        assert (await client.get("/report", headers=auth)).status_code == 401


async def test_a_role_the_route_does_not_serve_is_403_naming_the_roles(book):
    response = await get(book, "/report", book.issue("counsellor", "cap_emploi_49").token)
    assert response.status_code == 403
    assert "counsellor" in response.json()["detail"] and "coordinator, auditor" in response.json()["detail"]
    assert "www-authenticate" not in response.headers


async def test_a_structure_reads_its_own_and_is_403_for_another(book):
    token = book.issue("partner", "cap_emploi_49").token
    assert (await get(book, "/referrals", token)).json() == {"to": "cap_emploi_49"}
    assert (await get(book, "/referrals", token, to="cap_emploi_49")).status_code == 200
    other = await get(book, "/referrals", token, to="mission_locale_angevine")
    assert other.status_code == 403 and "cap_emploi_49" in other.json()["detail"]
    coordinator = book.issue("coordinator", "coordination_territoriale").token
    assert (await get(book, "/referrals", coordinator, to="mission_locale_angevine")).json() == {
        "to": "mission_locale_angevine"}
