"""Who calls intake's read and decision routes: a key of the credentials book, as the domain sees it.

The one place intake meets the credentials book for these routes: the runtime's `principal_from` answers 401
for a missing, unknown or revoked key; `caller_with(roles)` answers 403 for a key of another role, before the
body is read. Routes get a `domain.disclosure.Caller` (key id, role, structure), never the book's types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel

from services.intake.domain.disclosure import Caller
from services.runtime.access import Principal, principal_from

if TYPE_CHECKING:  # app.py builds IntakeDeps from this package's pieces: named for types only
    from services.intake.app import IntakeDeps


def intake_deps(request: Request) -> IntakeDeps:
    """Intake's dependencies, as its start() built them."""
    return request.app.state.ctx.deps


_principal = principal_from(lambda request: request.app.state.ctx.deps.credentials)


def caller_with(*roles: str, refusal: str) -> Callable[..., Caller]:
    """A dependency giving the caller if its key's role is one of `roles`; otherwise 403 with `refusal`
    (formatted with the caller's `role`)."""

    def dependency(principal: Principal = Depends(_principal)) -> Caller:
        if principal.role not in roles:
            raise HTTPException(403, refusal.format(role=principal.role))
        return Caller(key_id=principal.key_id, role=principal.role, structure=principal.structure)

    return dependency


class Problem(BaseModel):
    detail: str


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI answers of the errors these routes give (`{"detail": "..."}`), by status."""
    said = {400: "The body is not JSON.",
            401: "No key, or an unknown or revoked one (Authorization: Bearer ak_…).",
            403: "This key's role or structure may not do this (the detail says why).",
            404: "No such review, or no identity held for this person.",
            409: "The review was already decided, or cannot be decided so (the detail says why)."}
    return {status: {"model": Problem, "description": said[status]} for status in statuses}


def unprocessable(field: str, message: str) -> HTTPException:
    """A 422 shaped as FastAPI's own validation errors, for a rule a schema cannot say (personal data in a
    text to publish)."""
    return HTTPException(422, [{"loc": ["body", field], "msg": message, "type": "value_error"}])
