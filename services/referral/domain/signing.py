"""How a webhook notice is signed, and how a partner checks it. Pure.

A partner that does not read Kafka gets each event about a referral sent to it as an HTTP POST of the very
bytes published on `ariane.referral.v1` (CloudEvents structured JSON), signed so it can check the sender:

    X-Ariane-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the structure's secret>
    X-Ariane-Event-Id: <the event id, to discard a notice received twice>

The time is part of what is signed so that a captured notice cannot be replayed later (the partner rejects
a `t` too far from its own clock).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Ariane-Signature"
EVENT_ID_HEADER = "X-Ariane-Event-Id"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Ariane-Signature value of `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},{SIGNATURE_VERSION}={mac}"


def verify(header: str, body: bytes, secret: str, now: int, tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """What a partner does on receipt: the signature matches the body and its time is within tolerance."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body).rsplit("=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get(SIGNATURE_VERSION, ()))
