"""The dead-letter record: why a record could not be processed, where it came from, and its original bytes, cut
to a size that always fits in one Kafka record.

A letter must never be what blocks the pipeline: a record of about 1 MB, copied whole (and twice, as base64
and as text) into its letter, is larger than the broker accepts. So a letter keeps the beginning of the
original with its length and digest (enough to find it and tell what it was), at most `ERRORS_KEPT` field
errors, and texts cut to fixed lengths: a letter is at most a few hundred kilobytes whatever it is about.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

# What a letter keeps of the original record (bytes), of its reason and key (characters), and of the field
# errors: how many, and how long each text of one may be. Together far below one Kafka record (1 MiB).
ORIGINAL_KEPT_BYTES = 16 * 1024
REASON_KEPT = 2000
KEY_KEPT = 256
ERRORS_KEPT = 50
ERROR_TEXT_KEPT = 300


def cut(text: str, limit: int) -> str:
    """`text` if it is at most `limit` characters, else its beginning, marked as cut, in `limit` characters."""
    if len(text) <= limit:
        return text
    mark = f"… [{len(text)} characters, cut]"
    return text[:max(0, limit - len(mark))] + mark


def bounded_errors(errors: tuple[Mapping, ...] | list[Mapping]) -> list[dict]:
    """At most ERRORS_KEPT field errors, each text cut (a field name may be as long as the record), and one
    last entry saying how many were left out."""
    kept = [{k: cut(v, ERROR_TEXT_KEPT) if isinstance(v, str) else v for k, v in dict(e).items()}
            for e in errors[:ERRORS_KEPT]]
    if len(errors) > ERRORS_KEPT:
        kept.append({"loc": "", "msg": f"{len(errors) - ERRORS_KEPT} more errors not kept", "type": "errors_cut"})
    return kept


def _text_of(excerpt: bytes, truncated: bool) -> str | None:
    """The excerpt as text when it is UTF-8; a character cut in two at the excerpt's end is dropped."""
    try:
        return excerpt.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(excerpt) - 3 and exc.reason == "unexpected end of data":
            return excerpt[:exc.start].decode("utf-8")
        return None


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

    @property
    def kept_key(self) -> str | None:
        """The source record's key, cut: a key may be as large as the record."""
        return cut(self.key, KEY_KEPT) if self.key is not None else None

    def to_json_bytes(self) -> bytes:
        excerpt = self.original[:ORIGINAL_KEPT_BYTES]
        truncated = len(excerpt) < len(self.original)
        body = {
            "letter_id": self.letter_id,
            "service": self.service,
            "reason": cut(self.reason, REASON_KEPT),
            "errors": bounded_errors(self.errors),
            "source": {"topic": self.topic, "partition": self.partition, "offset": self.offset,
                       "key": self.kept_key},
            "original_base64": base64.b64encode(excerpt).decode("ascii"),
            "original_bytes": len(self.original),
            "original_sha256": hashlib.sha256(self.original).hexdigest(),
            "original_truncated": truncated,
        }
        text = _text_of(excerpt, truncated)
        if text is not None:
            body["original_text"] = text
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @staticmethod
    def parse(raw: bytes) -> dict:
        body = json.loads(raw)
        body["original"] = base64.b64decode(body.pop("original_base64"))
        return body
