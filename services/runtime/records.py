"""The consumed record as the runtime sees it, independent of the Kafka client's types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int = 0

    @classmethod
    def from_consumer(cls, rec) -> "Record":  # noqa: ANN001 - aiokafka ConsumerRecord
        return cls(rec.topic, rec.partition, rec.offset, rec.key, rec.value or b"", rec.timestamp or 0)

    @property
    def key_text(self) -> str | None:
        return self.key.decode("utf-8", "replace") if self.key is not None else None

    @property
    def position(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"
