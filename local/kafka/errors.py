"""What the local Kafka tooling says when it cannot do what was asked: one error, worded for a human."""

from __future__ import annotations


class KafkaRuntimeError(RuntimeError):
    """The local Kafka runtime cannot do what was asked; the message says why, for a human."""


def tail(text: str, lines: int = 25) -> str:
    """The last lines of a tool's output: enough to act on, short enough to read in an error."""
    return "\n".join(text.strip().splitlines()[-lines:])
