"""A database or broker outage met by any route is the caller's cue to retry later: 503 with Retry-After, never 500.

Written as a plain ASGI middleware, not with FastAPI's `@app.middleware("http")`: that decorator wraps every
request in a task group and a pair of memory streams, which under a paced load cost each service's requests,
/health included, more than the rest of their routing did.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi.responses import JSONResponse

from services.runtime.errors import is_transient

log = structlog.get_logger("ariane.service")

Scope = dict[str, Any]
Message = dict[str, Any]


class TransientIs503:
    def __init__(self, app: Any, retry_after_s: int) -> None:  # noqa: ANN401 - any ASGI application
        self.app = app
        self.retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:  # noqa: ANN401 - ASGI callables
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception as exc:
            # Once the answer has begun, another cannot replace it: the server closes the connection instead.
            if started or not is_transient(exc):
                raise
            log.warning("request_failed_transiently", error=f"{type(exc).__name__}: {exc}"[:300])
            response = JSONResponse({"error": "temporarily_unavailable",
                                     "detail": "a database or broker is unavailable; retry the same request later"},
                                    status_code=503, headers={"Retry-After": str(self.retry_after_s)})
            await response(scope, receive, send)
