"""The replay's report is computed in a forked child beside the store's write (services/reporting/store/forked.py):
what the child returns, raises or dies of reaches the replay as if the function had run in place."""

from __future__ import annotations

import os

import pytest

from services.reporting.store import forked
from services.reporting.store.forked import start_forked


def _whose(values: dict[str, list[int]]) -> tuple[int, int]:
    return os.getpid(), sum(sum(v) for v in values.values())


def _refuses(reason: str) -> None:
    raise ValueError(reason)


def _dies() -> None:
    os._exit(3)


def _large(n: int) -> bytes:
    return bytes(range(256)) * n


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here, or one core: the thread path is the one used")
async def test_the_result_comes_back_from_another_process():
    pid, total = await start_forked(_whose, {"a": [1, 2], "b": [3]})
    assert total == 6
    assert pid != os.getpid()


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here, or one core")
async def test_a_result_larger_than_the_pipe_comes_back_whole():
    got = await start_forked(_large, 40_000)  # 10 MB: many times a pipe's buffer
    assert got == _large(40_000)


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here, or one core")
async def test_what_the_function_raises_is_raised_in_the_parent():
    with pytest.raises(ValueError, match="no such period"):
        await start_forked(_refuses, "no such period")


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here, or one core")
async def test_a_child_that_dies_without_an_answer_is_an_error_not_a_result():
    with pytest.raises(RuntimeError, match="ended with 3 without an answer"):
        await start_forked(_dies)


async def test_without_fork_the_function_runs_in_a_thread_of_this_process(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    pid, total = await start_forked(_whose, {"a": [4]})
    assert (pid, total) == (os.getpid(), 4)


class _Unpicklable(Exception):
    def __init__(self, handle: object) -> None:
        super().__init__("holds a handle")
        self.handle = handle

    def __reduce__(self):  # noqa: ANN204 - as an exception holding a lock or a socket
        raise TypeError("cannot pickle")


def _raises_unpicklable() -> None:
    raise _Unpicklable(object())


@pytest.mark.skipif(not forked.can_fork(), reason="no fork here, or one core")
async def test_an_exception_that_cannot_be_pickled_still_reaches_the_parent_as_its_text():
    with pytest.raises(RuntimeError, match="_Unpicklable"):
        await start_forked(_raises_unpicklable)
