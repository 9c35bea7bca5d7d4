"""Intake's admission limit: how many partner events may be in its hands at once.

An event is in intake's hands from the moment its request is read until the request is answered (judged, stored,
confirmed on Kafka). Past the limit a request is answered 503 with `Retry-After` at once instead of queueing behind
the others until its partner gives up: the partner sends it again when told, and nothing of it was written.
"""

from __future__ import annotations


def may_enter(in_flight: int, events: int, limit: int) -> bool:
    """Whether a request of `events` events is taken while `in_flight` events are being handled.

    A request is never refused when nothing else is in flight, so that a batch larger than the limit (up to the
    batch limit, which is checked before) is still taken when intake is idle: the limit bounds a queue, it never
    refuses a request outright."""
    return in_flight == 0 or in_flight + events <= limit
