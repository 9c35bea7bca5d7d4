"""The one back-off policy of Ariane: exponential, capped, bounded in attempts, built on tenacity.

Every retry in the project goes through here (the consumer's batch retries, the relay after a broker error,
webhook notices, background tasks restarted by the host, the local tooling waiting for a broker), so that
"how long do we wait, how many times" is answered in one place and tested once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_never, wait_exponential

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Wait `base_s`, then double, never more than `ceiling_s`; give up after `attempts` tries (None: never)."""

    base_s: float
    ceiling_s: float
    attempts: int | None = None

    def delay(self, attempt: int) -> float:
        """The wait after the `attempt`-th failure (1-based)."""
        return min(self.ceiling_s, self.base_s * (2 ** max(0, attempt - 1)))

    def retrying(self, *, retry_on: Callable[[BaseException], bool],
                 on_retry: Callable[[int, BaseException, float], None] | None = None) -> AsyncRetrying:
        """A tenacity controller: `async for attempt in backoff.retrying(...): with attempt: ...`.

        Failures that `retry_on` accepts are retried after `delay(n)`; others, and the last failure, are raised
        as they are (never wrapped)."""

        def before_sleep(state: RetryCallState) -> None:
            if on_retry is not None and state.outcome is not None:
                exc = state.outcome.exception()
                if exc is not None:
                    on_retry(state.attempt_number, exc, self.delay(state.attempt_number))

        return AsyncRetrying(
            retry=retry_if_exception(retry_on),
            stop=stop_after_attempt(self.attempts) if self.attempts else stop_never,
            wait=wait_exponential(multiplier=self.base_s, exp_base=2, min=0, max=self.ceiling_s),
            before_sleep=before_sleep,
            reraise=True,
        )

    async def call(self, fn: Callable[[], Awaitable[T]], *, retry_on: Callable[[BaseException], bool],
                   on_retry: Callable[[int, BaseException, float], None] | None = None) -> T:
        """Await `fn()` until it succeeds, retrying the failures `retry_on` accepts."""
        async for attempt in self.retrying(retry_on=retry_on, on_retry=on_retry):
            with attempt:
                return await fn()
        raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover
