"""The dead-letter record: the original bytes, why they could not be processed, and where they came from."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class DeadLetter:
    service: str
    reason: str
    topic: str
    partition: int
    offset: int
    key: str | None
    original: bytes
    errors: tuple[dict, ...] = ()

    @property
    def letter_id(self) -> str:
        # One letter per source record: a redelivered poison record never makes two letters.
        return f"dlq:{self.service}:{self.topic}:{self.partition}:{self.offset}"

    def to_json_bytes(self) -> bytes:
        body = {
            "letter_id": self.letter_id,
            "service": self.service,
            "reason": self.reason,
            "errors": list(self.errors),
            "source": {"topic": self.topic, "partition": self.partition, "offset": self.offset, "key": self.key},
            "original_base64": base64.b64encode(self.original).decode("ascii"),
        }
        try:
            body["original_text"] = self.original.decode("utf-8")
        except UnicodeDecodeError:
            pass
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @staticmethod
    def parse(raw: bytes) -> dict:
        body = json.loads(raw)
        body["original"] = base64.b64decode(body.pop("original_base64"))
        return body
