"""The one back-off: delays double from the base and stop at the ceiling, attempts are bounded, and only the
failures the caller names are retried."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.runtime.backoff import Backoff

bases = st.floats(min_value=0.001, max_value=10, allow_nan=False, allow_infinity=False)
ceilings = st.floats(min_value=0.001, max_value=600, allow_nan=False, allow_infinity=False)


class Flaky(Exception):
    pass


def failing(times: int, then: object = "done", error: type[Exception] = Flaky):
    """An async callable that raises `times` times, then returns `then`; `calls` counts the calls."""
    calls: list[int] = []

    async def fn() -> object:
        calls.append(1)
        if len(calls) <= times:
            raise error(f"failure {len(calls)}")
        return then

    return fn, calls


def retry_flaky(exc: BaseException) -> bool:
    return isinstance(exc, Flaky)


@given(base=bases, ceiling=ceilings, attempt=st.integers(min_value=1, max_value=60))
def test_each_delay_doubles_the_previous_until_the_ceiling(base: float, ceiling: float, attempt: int) -> None:
    b = Backoff(base_s=base, ceiling_s=max(base, ceiling))
    assert b.delay(1) == base
    assert b.delay(attempt + 1) == min(b.ceiling_s, 2 * b.delay(attempt))
    assert b.delay(attempt) <= b.ceiling_s


@given(attempts=st.integers(min_value=1, max_value=8), failures=st.integers(min_value=0, max_value=12))
def test_attempts_bound_the_calls(attempts: int, failures: int) -> None:
    fn, calls = failing(failures)
    b = Backoff(base_s=0, ceiling_s=0, attempts=attempts)
    if failures < attempts:
        assert asyncio.run(b.call(fn, retry_on=retry_flaky)) == "done"
        assert len(calls) == failures + 1
    else:
        with pytest.raises(Flaky, match=f"failure {attempts}$"):  # the last failure itself, not wrapped
            asyncio.run(b.call(fn, retry_on=retry_flaky))
        assert len(calls) == attempts


async def test_without_a_bound_it_retries_until_success() -> None:
    fn, calls = failing(25, then=7)
    assert await Backoff(base_s=0, ceiling_s=0).call(fn, retry_on=retry_flaky) == 7
    assert len(calls) == 26


async def test_a_failure_not_named_is_raised_at_once() -> None:
    fn, calls = failing(3, error=KeyError)
    with pytest.raises(KeyError):
        await Backoff(base_s=0, ceiling_s=0, attempts=5).call(fn, retry_on=retry_flaky)
    assert len(calls) == 1


async def test_call_returns_the_value_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    fn, calls = failing(0, then={"answer": 42})
    assert await Backoff(base_s=1, ceiling_s=8).call(fn, retry_on=retry_flaky) == {"answer": 42}
    assert (len(calls), slept) == (1, [])


async def test_the_waits_taken_are_the_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record_sleep)
    retried: list[tuple[int, str, float]] = []
    b = Backoff(base_s=0.5, ceiling_s=4, attempts=7)
    fn, _calls = failing(6)
    result = await b.call(fn, retry_on=retry_flaky, on_retry=lambda n, exc, d: retried.append((n, str(exc), d)))
    assert result == "done"
    assert slept == [0.5, 1, 2, 4, 4, 4]
    assert retried == [(n, f"failure {n}", b.delay(n)) for n in range(1, 7)]
