"""Bearer tokens: a table of token digests to principals, and the one FastAPI dependency every read API uses."""

from __future__ import annotations

import hmac

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from services.runtime.auth import TokenTable, bearer_principal, token_digest

TOKENS = {"tok-ml": "ml_angers", "tok-ft": "ft_angers", "tok-coord": "coordinator"}


def table() -> TokenTable:
    return TokenTable({token_digest(token): principal for token, principal in TOKENS.items()})


def test_a_known_token_gives_its_principal_and_an_unknown_one_none() -> None:
    tokens = table()
    assert [tokens.principal_for(t) for t in TOKENS] == list(TOKENS.values())
    assert tokens.principal_for("tok-ml\n") == "ml_angers"  # pasted with a trailing newline
    assert tokens.principal_for("tok-unknown") is None
    assert tokens.principal_for("") is None


def test_digests_are_matched_whatever_their_case() -> None:
    tokens = TokenTable({token_digest("tok-ml").upper(): "ml_angers"})
    assert tokens.principal_for("tok-ml") == "ml_angers"


@pytest.mark.parametrize("token", ["tok-ml", "tok-coord", "tok-unknown"])
def test_every_digest_is_compared_whichever_token_is_asked(token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Constant time: the lookup compares the digest with every entry, so its duration says nothing about
    # which entry (if any) matched.
    compared: list[str] = []
    real = hmac.compare_digest

    def counting(a: str, b: str) -> bool:
        compared.append(a)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    table().principal_for(token)
    assert sorted(compared) == sorted(token_digest(t) for t in TOKENS)


def app() -> FastAPI:
    api = FastAPI()
    api.state.tokens = table()
    principal = bearer_principal(lambda request: request.app.state.tokens)

    @api.get("/worklist")
    async def worklist(request: Request, who: str = Depends(principal)) -> dict[str, str]:
        return {"principal": who}

    return api


async def get(headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://test") as client:
        return await client.get("/worklist", headers=headers)


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer tok-unknown"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dG9rLW1sOg=="},
    {"Authorization": "tok-ml"},
], ids=["none", "wrong", "empty", "basic", "no-scheme"])
async def test_no_or_a_wrong_token_is_401(headers: dict[str, str]) -> None:
    response = await get(headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_the_right_token_gives_the_principal() -> None:
    response = await get({"Authorization": "Bearer tok-ft"})
    assert response.status_code == 200
    assert response.json() == {"principal": "ft_angers"}
