"""Asking a running service's /health as the local tooling does."""

from __future__ import annotations

import asyncio
from typing import Any


async def health_once_outbox_empty(client: Any, timeout_s: float = 30.0) -> dict[str, Any]:
    """/health's answer once it says the outbox is empty. /health reports the store as last read (at most a
    second or so behind, services/runtime/health.py), so the rows just seen on Kafka may be counted as pending
    in the first answers; the pending count must come down to 0, and stay there, on its own."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        health = (await client.get("/health")).json()
        if health.get("outbox_pending") == 0 or loop.time() > deadline:
            return health
        await asyncio.sleep(0.1)
