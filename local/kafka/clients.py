"""Talking to a broker from the tooling: an admin client, readiness, and client failures said in one line."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from local.kafka.errors import KafkaRuntimeError
from services.runtime.backoff import Backoff
from services.runtime.kafka_security import ADMIN, client_security

T = TypeVar("T")

# A JVM takes seconds to open its listeners: ask again four times a second until the deadline.
READY_RETRY = Backoff(base_s=0.25, ceiling_s=0.25)


def admin(bootstrap: str, request_timeout_ms: int = 10000) -> Any:
    """An admin client of the tooling: it authenticates as the ``admin`` principal when the broker has one."""
    from aiokafka.admin import AIOKafkaAdminClient

    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=request_timeout_ms,
                               **client_security(bootstrap, ADMIN))


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@contextmanager
def quiet_client() -> Iterator[None]:
    """Silence aiokafka's own logging: the tooling reports failures itself, in one line."""
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        quiet.setLevel(level)


async def human_errors(bootstrap: str, coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro``; a client failure becomes one KafkaRuntimeError line instead of a stack trace."""
    from aiokafka.errors import KafkaError

    with quiet_client():
        try:
            return await coro
        except (KafkaError, OSError, asyncio.TimeoutError) as exc:
            raise KafkaRuntimeError(
                f"the Kafka broker at {bootstrap} does not answer: {type(exc).__name__}: {exc}"
            ) from exc


class _NoBrokerYet(Exception):
    """The cluster metadata came back without a broker in it."""


async def _probe(bootstrap: str) -> None:
    client = admin(bootstrap, request_timeout_ms=3000)
    try:
        await client.start()
        cluster = await client.describe_cluster()
        await client.list_topics()
        if not cluster.get("brokers"):
            raise _NoBrokerYet("no broker in the cluster metadata yet")
    finally:
        await client.close()


async def wait_ready_async(bootstrap: str, timeout: float = 60, alive: Callable[[], None] | None = None) -> None:
    """Wait until an admin client gets cluster metadata with a broker in it from ``bootstrap``.

    ``alive()`` is called before each try; it raises KafkaRuntimeError when the broker process died, which ends
    the wait at once.
    """
    deadline = time.monotonic() + timeout

    async def answer() -> None:
        if alive is not None:
            alive()
        await asyncio.wait_for(_probe(bootstrap), timeout=max(0.5, min(5.0, deadline - time.monotonic())))

    def not_ready_yet(exc: BaseException) -> bool:  # any client failure means "not ready yet", until the deadline
        return isinstance(exc, Exception) and not isinstance(exc, KafkaRuntimeError) and time.monotonic() < deadline

    with quiet_client():  # connection refused is expected while the JVM starts
        try:
            await READY_RETRY.call(answer, retry_on=not_ready_yet)
        except KafkaRuntimeError:
            raise
        except Exception as exc:  # noqa: BLE001 - the last failure, past the deadline
            raise KafkaRuntimeError(
                f"Kafka at {bootstrap} did not answer within {timeout:.0f} s (last error: {type(exc).__name__}: {exc})"
            ) from None


def wait_ready(bootstrap: str, timeout: float = 60, alive: Callable[[], None] | None = None) -> None:
    run_sync(wait_ready_async(bootstrap, timeout=timeout, alive=alive))
