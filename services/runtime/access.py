"""Who is calling, for every HTTP API: a bearer key checked against the credentials book, and the role checks.

A service's route asks for the caller with a dependency built once from the service's book, then says which
roles it serves:

    from services.runtime.access import Principal, principal_from, require_role

    caller = principal_from(lambda request: request.app.state.ctx.deps.credentials)

    @router.get("/v1/worklist")
    async def worklist(who: Principal = Depends(caller)) -> ...:
        require_role(who, "coordinator", "counsellor", "partner")  # 403 for an auditor, saying so
        structure = who.structure  # a partner or counsellor sees its own structure only

No token, a malformed one, an unknown key, a revoked key or a wrong secret: 401 with `WWW-Authenticate: Bearer`
(the caller must authenticate). A valid key whose role may not use the route: 403 (authenticating again will not
help). The book is read again when its file changes, so a revocation counts from the next request.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.runtime.credentials import CredentialsBook, Principal, Role

__all__ = ["Principal", "principal_from", "require_role", "require_structure"]

_bearer = HTTPBearer(auto_error=False, description="A key of the credentials book: ak_<key_id>.<secret>, issued "
                     "by `ariane structures` to a structure, a counsellor, the coordinator or an auditor.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def principal_from(book_of: Callable[[Request], CredentialsBook]) -> Callable[..., Principal]:
    """A FastAPI dependency giving the `Principal` behind `Authorization: Bearer <key>`, or answering 401.

    `book_of(request)` finds the service's book (usually in its deps); it is called per request, so a test or a
    service may swap the book without rebuilding its routes."""

    def dependency(request: Request,
                   credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
            raise HTTPException(401, "a bearer key is required (Authorization: Bearer ak_…)", headers=_CHALLENGE)
        principal = book_of(request).check(credentials.credentials)
        if principal is None:
            raise HTTPException(401, "unknown or revoked key", headers=_CHALLENGE)
        return principal

    return dependency


def require_role(principal: Principal, *roles: Role) -> Principal:
    """The principal, if its role is one of `roles`; else 403 naming what the route serves."""
    if principal.role not in roles:
        raise HTTPException(403, f"a {principal.role} key may not use this route (it serves: {', '.join(roles)})")
    return principal


def require_structure(principal: Principal, structure: str | None, what: str = "data") -> str:
    """The structure a partner or counsellor key may read: its own. Asking for another one is a 403."""
    if structure is not None and structure != principal.structure:
        raise HTTPException(403, f"a {principal.role} key of {principal.structure} sees only its own structure's "
                                 f"{what}, not {structure}'s")
    return principal.structure
