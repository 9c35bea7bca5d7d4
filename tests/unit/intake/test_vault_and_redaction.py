"""The vault's encryption, and what the dead-letter topic keeps of a refused inbound record."""

from __future__ import annotations

import json
from datetime import date

import pytest
from cryptography.exceptions import InvalidTag

from services.intake.domain.identity import IdentityFacts
from services.intake.domain.redaction import redact_original
from services.intake.store.vault import Vault, master_key_from


def test_identity_round_trips_only_with_its_person_key_and_id():
    vault = Vault(master_key_from("a master secret for tests"))
    facts = IdentityFacts(nir="199054900712345", last_name="Martin", first_names="Léa", birth_date=date(1999, 5, 14))
    key, wrapped = vault.new_person_key("p_1")
    sealed = vault.seal_identity("p_1", key, facts)
    assert b"Martin" not in sealed and b"199054900712345" not in sealed
    assert vault.open_identity("p_1", vault.unwrap("p_1", wrapped), sealed) == facts
    with pytest.raises(InvalidTag):
        vault.open_identity("p_2", key, sealed)  # rows cannot be swapped between people
    with pytest.raises(InvalidTag):
        Vault(master_key_from("another master secret")).unwrap("p_1", wrapped)


def test_redaction_strips_the_identity_block_and_withholds_what_it_cannot_read():
    raw = json.dumps({"id": "e1", "data": {"rsa": True, "identity": {"nir": "199054900712345"}}}).encode()
    redacted = json.loads(redact_original(raw))
    assert redacted["data"]["rsa"] is True and "199054900712345" not in json.dumps(redacted)
    assert b"Martin" not in redact_original(b"Martin, 1999-05-14, not json")
