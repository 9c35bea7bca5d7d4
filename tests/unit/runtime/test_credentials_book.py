"""The credentials book as its users meet it: keys issued, checked, revoked; a file changed under a running reader."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.runtime.credentials import (CredentialsBook, CredentialsError, Principal, read_entries, secret_sha256,
                                          split_token)


@pytest.fixture
def book(tmp_path):
    return CredentialsBook(tmp_path / "credentials.json")


def test_an_issued_key_gives_its_principal(book):
    issued = book.issue("counsellor", "mission_locale_angevine", counsellor="c-042", label="accueil")
    key_id = issued.entry.key_id
    assert issued.token.startswith(f"ak_{key_id}.")
    assert book.check(issued.token) == Principal(key_id, "counsellor", "mission_locale_angevine", "c-042")
    assert book.check(f"  {issued.token}\n") is not None  # pasted with blanks around it


def test_the_file_keeps_no_secret_and_only_its_owner_reads_it(book):
    issued = book.issue("coordinator", "coordination_territoriale")
    text = book.path.read_text(encoding="utf-8")
    secret = issued.token.split(".", 1)[1]
    assert secret not in text and issued.token not in text
    assert secret_sha256(secret) in text
    assert stat.S_IMODE(os.stat(book.path).st_mode) == 0o600
    entry = json.loads(text)["entries"][0]
    assert set(entry) == {"key_id", "role", "structure", "counsellor", "label", "created", "revoked", "secret_sha256"}


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the secret changed
    lambda t: t + "x",
    lambda t: t.split(".")[0] + ".",  # no secret
    lambda t: t.replace("ak_", "", 1),  # not the key form
    lambda t: "ak_ffffffffffff." + t.split(".", 1)[1],  # another key id, the right secret
    lambda t: "",
], ids=["changed", "longer", "no-secret", "no-prefix", "other-id", "empty"])
def test_a_tampered_or_malformed_token_is_refused(book, mangle):
    token = book.issue("partner", "cap_emploi_49").token
    assert book.check(mangle(token)) is None
    assert book.check(token) is not None


def test_a_revoked_key_is_refused_and_revoking_twice_says_so(book):
    kept = book.issue("auditor", "angers-loire-metropole")
    gone = book.issue("partner", "cap_emploi_49")
    assert book.revoke(gone.entry.key_id).revoked is not None
    assert book.check(gone.token) is None
    assert book.check(kept.token) is not None
    assert book.revoke(gone.entry.key_id) is None
    assert book.revoke("nosuchkey") is None


def test_a_running_reader_sees_a_revocation_made_by_another_process(tmp_path):
    path = tmp_path / "credentials.json"
    service = CredentialsBook(path)  # what a running service holds
    issued = CredentialsBook(path).issue("counsellor", "departement_49")
    assert service.check(issued.token) is not None
    CredentialsBook(path).revoke(issued.entry.key_id)  # the command line, elsewhere
    assert service.check(issued.token) is None
    later = CredentialsBook(path).issue("coordinator", "coordination_territoriale")
    assert service.check(later.token) is not None


def test_a_missing_file_is_a_book_without_keys(tmp_path):
    book = CredentialsBook(tmp_path / "nowhere" / "credentials.json")
    assert book.check("ak_0123456789ab.secret") is None
    assert book.entries() == [] and book.problem is None


def test_a_file_deleted_under_a_reader_refuses_its_keys(book):
    issued = book.issue("partner", "cap_emploi_49")
    reader = CredentialsBook(book.path)
    assert reader.check(issued.token) is not None
    book.path.unlink()
    assert reader.check(issued.token) is None


def test_a_broken_file_refuses_every_key_and_says_why(book):
    issued = book.issue("partner", "cap_emploi_49")
    reader = CredentialsBook(book.path)
    assert reader.check(issued.token) is not None
    book.path.write_text('{"entries": [', encoding="utf-8")
    assert reader.check(issued.token) is None
    assert "not JSON" in reader.problem
    with pytest.raises(CredentialsError):  # and the command line will not write over it
        book.issue("partner", "cap_emploi_49")


@pytest.mark.parametrize("entry, problem", [
    ({"role": "admin"}, "role"),
    ({"counsellor": "c-1"}, "only a counsellor"),
    ({"structure": ""}, "no structure"),
    ({"secret_sha256": "abc"}, "SHA-256"),
])
def test_an_entry_edited_by_hand_into_nonsense_is_named(book, entry, problem):
    book.issue("partner", "cap_emploi_49")
    document = json.loads(book.path.read_text(encoding="utf-8"))
    document["entries"][0].update(entry)
    book.path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CredentialsError, match=problem):
        read_entries(book.path)


def test_a_partner_key_issued_elsewhere_is_recorded_with_its_id_and_digest(book):
    token = "ak_a1b2c3d4e5f6.s3cr3t-from-intake"
    issued = book.record(token, "partner", "plie_angers", label="intake")
    assert issued.entry.key_id == "a1b2c3d4e5f6"
    assert book.check(token) == Principal("a1b2c3d4e5f6", "partner", "plie_angers")
    with pytest.raises(CredentialsError, match="already"):
        book.record(token, "partner", "plie_angers")
    with pytest.raises(CredentialsError, match="role"):
        book.issue("superuser", "plie_angers")  # type: ignore[arg-type]


def test_commands_run_at_once_all_land(book):
    threads = [threading.Thread(target=book.issue, args=("counsellor", "cap_emploi_49")) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(book.entries()) == 8


@given(key_id=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
       secret=st.text(min_size=1, max_size=60).filter(lambda s: not s[0].isspace() and not s[-1].isspace()))
def test_a_token_splits_back_into_its_parts(key_id, secret):
    assert split_token(f"ak_{key_id}.{secret}") == (key_id, secret)


@given(token=st.text(max_size=80))
def test_no_string_but_a_live_key_gets_a_principal(tmp_path_factory, token):
    book = CredentialsBook(tmp_path_factory.getbasetemp() / "property-book.json")
    if not book.entries():
        book.issue("partner", "cap_emploi_49")
    assert book.check(token) is None
