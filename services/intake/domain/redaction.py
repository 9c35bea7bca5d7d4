"""What the dead-letter topic may keep of a refused inbound record: never an identity."""

from __future__ import annotations

import json


def redact_original(raw: bytes) -> bytes:
    """What the dead-letter topic keeps of a refused inbound record: the event without its identity block.

    A record that is not even a JSON object is withheld entirely: nobody can tell what it holds."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return b'{"redacted": "unparseable original withheld by intake"}'
    if not isinstance(body, dict):
        return b'{"redacted": "non-object original withheld by intake"}'
    data = body.get("data")
    if isinstance(data, dict) and "identity" in data:
        data = {**data, "identity": "[redacted by intake]"}
        body = {**body, "data": data}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
