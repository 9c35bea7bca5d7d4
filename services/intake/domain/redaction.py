"""What the dead-letter topic may keep of a refused inbound record: never an identity, nor personal data."""

from __future__ import annotations

import json

from services.intake.domain import pii


def redact_original(raw: bytes) -> bytes:
    """What the dead-letter topic keeps of a refused inbound record: the event with every identity-like key's
    value (at any depth, whatever its spelling) and every string holding personal data (NIR, e-mail, phone,
    IBAN, the names of any identity found in it; plain or base64) replaced.

    A record that is not even a JSON object is withheld entirely: nobody can tell what it holds."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return b'{"redacted": "unparseable original withheld by intake"}'
    if not isinstance(body, dict):
        return b'{"redacted": "non-object original withheld by intake"}'
    return json.dumps(pii.redact(body, pii.names_anywhere(body)), ensure_ascii=False).encode("utf-8")
