"""What a partner's answer to a webhook notice means: delivered, worth another try, or failed. Pure.

How long to wait before the next try is not decided here: it is the runtime's one back-off policy, applied
by the delivery loop (tasks.py).
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def is_retryable(status: int | None) -> bool:
    """None is no answer at all (timeout, refused connection): worth another try, as are 408 (timeout), 429
    (slow down) and 5xx (the partner's trouble). Any other 4xx says the request itself is wrong and would be
    wrong again; a 3xx means the URL is not the endpoint (a signed body is not re-sent elsewhere)."""
    if status is None:
        return True
    return status in (408, 429) or status >= 500


def verdict(status: int | None, attempts_made: int, max_attempts: int) -> Verdict:
    """Once attempt number `attempts_made` answered `status` (None: no answer): a success is delivered; an
    answer saying the request is wrong, or the last allowed attempt failing, ends the notice as failed."""
    if is_success(status):
        return Verdict.DELIVERED
    if not is_retryable(status) or attempts_made >= max_attempts:
        return Verdict.FAILED
    return Verdict.RETRY
