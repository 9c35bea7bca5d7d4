"""Encryption of the identity vault: one data key per person, wrapped by the territory's master key.

Erasing a person is dropping their wrapped key: the ciphertext left behind can no longer be read by anyone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.intake.domain.identity import IdentityFacts
from services.intake.store.randomness import random_bytes

_NONCE = 12


def master_key_from(secret: str) -> bytes:
    """A 256-bit key from the configured master secret (any length of text)."""
    return hashlib.sha256(b"ariane-intake-master\x00" + secret.encode()).digest()


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = random_bytes(_NONCE)  # a buffered read of the kernel's randomness (see store.randomness)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)


class Vault:
    """Seal and open identity records; the person_id is bound as associated data so rows cannot be swapped."""

    def __init__(self, master_key: bytes) -> None:
        self._master = master_key

    def new_person_key(self, person_id: str) -> tuple[bytes, bytes]:
        """A fresh data key for one person, and that key wrapped by the master key (what the store keeps)."""
        key = random_bytes(32)  # 256 bits, as AESGCM.generate_key reads them, from the buffered kernel randomness
        return key, _seal(self._master, key, b"key:" + person_id.encode())

    def unwrap(self, person_id: str, wrapped: bytes) -> bytes:
        return _open(self._master, wrapped, b"key:" + person_id.encode())

    def seal_identity(self, person_id: str, key: bytes, facts: IdentityFacts) -> bytes:
        body = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(facts).items()}
        return _seal(key, json.dumps(body, sort_keys=True).encode(), b"identity:" + person_id.encode())

    def open_identity(self, person_id: str, key: bytes, sealed: bytes) -> IdentityFacts:
        body = json.loads(_open(key, sealed, b"identity:" + person_id.encode()))
        if body.get("birth_date"):
            body["birth_date"] = date.fromisoformat(body["birth_date"])
        return IdentityFacts(**body)

    def seal_secret(self, label: str, value: bytes) -> bytes:
        """Seal a small secret under the master key (signing keys of API credentials)."""
        return _seal(self._master, value, b"secret:" + label.encode())

    def open_secret(self, label: str, sealed: bytes) -> bytes:
        return _open(self._master, sealed, b"secret:" + label.encode())
