"""Per-structure API keys: issued once, stored hashed, revocable; bearer use or HMAC-signed requests.

A key reads `ak_<key_id>.<secret>`. The store keeps the SHA-256 of the secret (enough to check a bearer key)
and, sealed by the master key, the signing key derived from the secret (a server can only check an HMAC it
can recompute). Partners sign `<timestamp>.<body>` with `signing_key(secret)`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.store import ApiKeyRow
from services.intake.vault import Vault

KEY_PREFIX = "ak_"
SIGNATURE_HEADER = "x-ariane-signature"
KEY_ID_HEADER = "x-ariane-key-id"
TIMESTAMP_HEADER = "x-ariane-timestamp"


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def signing_key(secret: str) -> bytes:
    """The HMAC key a partner signs requests with, derived from its API key's secret."""
    return hashlib.sha256(b"ariane-signing\x00" + secret.encode()).digest()


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def split_key(token: str) -> tuple[str, str] | None:
    if not token.startswith(KEY_PREFIX) or "." not in token:
        return None
    key_id, _, secret = token[len(KEY_PREFIX):].partition(".")
    return (key_id, secret) if key_id and secret else None


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    structure_id: str
    token: str  # shown once, never stored


async def add_key(session: AsyncSession, vault: Vault, structure_id: str) -> IssuedKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(ApiKeyRow(key_id=key_id, structure_id=structure_id, secret_sha256=secret_sha256(secret),
                          signing_key=vault.seal_secret(key_id, signing_key(secret))))
    await session.flush()
    return IssuedKey(key_id, structure_id, f"{KEY_PREFIX}{key_id}.{secret}")


async def revoke_key(session: AsyncSession, key_id: str) -> bool:
    row = await session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(timezone.utc)
    session.add(row)
    await session.flush()
    return True


async def list_keys(session: AsyncSession) -> list[ApiKeyRow]:
    return list((await session.exec(select(ApiKeyRow).order_by(ApiKeyRow.structure_id, ApiKeyRow.key_id))).all())


async def _active(session: AsyncSession, key_id: str) -> ApiKeyRow | None:
    row = await session.get(ApiKeyRow, key_id)
    return row if row is not None and row.revoked_at is None else None


async def structure_for_bearer(session: AsyncSession, token: str) -> str | None:
    parts = split_key(token)
    if parts is None:
        return None
    row = await _active(session, parts[0])
    if row is None or not hmac.compare_digest(row.secret_sha256, secret_sha256(parts[1])):
        return None
    return row.structure_id


async def structure_for_signature(session: AsyncSession, vault: Vault, *, key_id: str, timestamp: str,
                                  signature: str, body: bytes, now: datetime, window_s: int) -> str | None:
    """A signed request is valid if its HMAC matches and its timestamp is within the replay window.

    A replay inside the window can only repeat the same events, which the inbox answers as duplicates."""
    try:
        sent_at = float(timestamp)
    except ValueError:
        return None
    if abs(now.timestamp() - sent_at) > window_s:
        return None
    row = await _active(session, key_id)
    if row is None:
        return None
    expected = sign(vault.open_secret(row.key_id, row.signing_key), timestamp, body)
    return row.structure_id if hmac.compare_digest(expected, signature) else None
