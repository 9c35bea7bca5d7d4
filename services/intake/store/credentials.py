"""Per-structure API keys in the store: issued once, kept hashed, revocable; who a request speaks for.

The forms and checks of keys and signatures are rules (`domain.api_keys`); this module finds the rows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.domain import api_keys
from services.intake.store.tables import ApiKeyRow
from services.intake.store.vault import Vault


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    structure_id: str
    token: str  # shown once, never stored


async def add_key(session: AsyncSession, vault: Vault, structure_id: str) -> IssuedKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(ApiKeyRow(key_id=key_id, structure_id=structure_id, secret_sha256=api_keys.secret_sha256(secret),
                          signing_key=vault.seal_secret(key_id, api_keys.signing_key(secret))))
    await session.flush()
    return IssuedKey(key_id, structure_id, api_keys.token_of(key_id, secret))


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
    parts = api_keys.split_key(token)
    if parts is None:
        return None
    row = await _active(session, parts[0])
    if row is None or not api_keys.secret_matches(row.secret_sha256, parts[1]):
        return None
    return row.structure_id


async def structure_for_signature(session: AsyncSession, vault: Vault, *, key_id: str, timestamp: str,
                                  signature: str, body: bytes, now: datetime, window_s: int) -> str | None:
    """A signed request is valid if its timestamp is within the replay window and its HMAC matches."""
    if not api_keys.is_fresh(timestamp, now, window_s):
        return None
    row = await _active(session, key_id)
    if row is None:
        return None
    key = vault.open_secret(row.key_id, row.signing_key)
    return row.structure_id if api_keys.signature_matches(key, timestamp, body, signature) else None
