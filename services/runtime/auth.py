"""The former bearer tokens of the read APIs, kept only while followup still reads ARIANE_FOLLOWUP_TOKENS.

Every other API checks the credentials book (`services.runtime.credentials`, `services.runtime.access`); once
followup does too, this module goes. Tokens are never stored: a table maps the sha256 (hex) of each token to
the principal it stands for (a structure id, or the territory coordinator), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="An API token issued to a structure or to the coordinator.")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


class TokenTable:
    """{sha256 hex of a token: principal}; `principal_for` answers None for an unknown token."""

    def __init__(self, digests: Mapping[str, str]) -> None:
        self._digests = {str(k).lower(): str(v) for k, v in digests.items()}

    def principal_for(self, token: str) -> str | None:
        digest = token_digest(token)
        found = None
        for known, principal in self._digests.items():
            if hmac.compare_digest(known, digest):
                found = principal
        return found


def bearer_principal(tokens_of: Callable[[Request], TokenTable]) -> Callable[..., str]:
    """A FastAPI dependency giving the principal behind `Authorization: Bearer <token>`, or 401."""

    def dependency(request: Request,
                   credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
            raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        principal = tokens_of(request).principal_for(credentials.credentials)
        if principal is None:
            raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
        return principal

    return dependency
