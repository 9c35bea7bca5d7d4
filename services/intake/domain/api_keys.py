"""A structure's API key and signed requests: the forms and the checks, without the store.

A key reads `ak_<key_id>.<secret>`. The store keeps the SHA-256 of the secret (enough to check a bearer key)
and, sealed by the master key, the signing key derived from the secret (a server can only check an HMAC it
can recompute). Partners sign `<timestamp>.<body>` with `signing_key(secret)`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from datetime import datetime

KEY_PREFIX = "ak_"
SIGNATURE_HEADER = "x-ariane-signature"
KEY_ID_HEADER = "x-ariane-key-id"
TIMESTAMP_HEADER = "x-ariane-timestamp"
# Unix seconds, optionally with a fraction: nothing else is a timestamp.
_TIMESTAMP = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def signing_key(secret: str) -> bytes:
    """The HMAC key a partner signs requests with, derived from its API key's secret."""
    return hashlib.sha256(b"ariane-signing\x00" + secret.encode()).digest()


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def token_of(key_id: str, secret: str) -> str:
    return f"{KEY_PREFIX}{key_id}.{secret}"


def split_key(token: str) -> tuple[str, str] | None:
    if not token.startswith(KEY_PREFIX) or "." not in token:
        return None
    key_id, _, secret = token[len(KEY_PREFIX):].partition(".")
    return (key_id, secret) if key_id and secret else None


def secret_matches(stored_sha256: str, secret: str) -> bool:
    return hmac.compare_digest(stored_sha256, secret_sha256(secret))


def is_fresh(timestamp: str, now: datetime, window_s: int) -> bool:
    """A signed request counts only within the replay window around its timestamp.

    A replay inside the window can only repeat the same events, which the inbox answers as duplicates."""
    if not _TIMESTAMP.fullmatch(timestamp):
        return False  # "nan", "inf", "1e99", signs and spaces are not a time
    sent_at = float(timestamp)
    return math.isfinite(sent_at) and abs(now.timestamp() - sent_at) <= window_s


def signature_matches(key: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(key, timestamp, body), signature)
