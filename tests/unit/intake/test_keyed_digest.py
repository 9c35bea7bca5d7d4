"""Intake's keyed digests (the vault's match keys, the forms an erased person's event ids take) are HMAC-SHA256
of the secret and the message, whichever secret and message, however many times the keyed state is reused."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain.keyed_digest import hmac_sha256_hex


@given(st.lists(st.tuples(st.binary(min_size=1, max_size=80), st.binary(max_size=300)), min_size=1, max_size=20))
def test_each_digest_is_the_hmac_sha256_of_its_secret_and_message(pairs: list[tuple[bytes, bytes]]) -> None:
    for secret, message in pairs + pairs:  # each secret's keyed state used again after others
        assert hmac_sha256_hex(secret, message) == hmac.new(secret, message, hashlib.sha256).hexdigest()
