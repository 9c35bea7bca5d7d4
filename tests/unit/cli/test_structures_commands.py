"""`ariane structures`, as an operator runs it: keys printed once, listed without secrets, refused structures,
and a partner key that is both intake's and the book's."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from contracts.territory import load_territory
from services.runtime.credentials import CredentialsBook

TERRITORY = load_territory()


@pytest.fixture
def book(tmp_path, monkeypatch) -> CredentialsBook:
    monkeypatch.setenv("ARIANE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}")
    monkeypatch.setenv("ARIANE_CREDENTIALS_FILE", str(tmp_path / "credentials.json"))
    return CredentialsBook(tmp_path / "credentials.json")


def run(*args: str) -> tuple[int, str, str | None]:
    """(exit code, output, the token printed if any)."""
    result = CliRunner().invoke(app, ["structures", *args])
    token = next((line for line in result.output.splitlines() if line.startswith("ak_")), None)
    return result.exit_code, result.output, token


def test_each_role_gets_a_key_the_book_accepts(book):
    code, _, user = run("add-user", "cap_emploi_49", "--counsellor", "c-17", "--label", "accueil")
    assert code == 0
    assert run("add-coordinator")[0] == 0
    assert run("add-auditor", "--label", "the funder")[0] == 0
    principal = book.check(user)
    assert (principal.role, principal.structure, principal.counsellor) == ("counsellor", "cap_emploi_49", "c-17")
    roles = {e.role: e for e in book.entries()}
    assert roles["coordinator"].structure == TERRITORY.coordinator.id
    assert roles["auditor"].structure == TERRITORY.id and roles["auditor"].label == "the funder"


def test_the_list_shows_every_key_and_no_secret(book):
    _, _, token = run("add-user", "departement_49")
    code, listed, _ = run("list")
    key_id, secret = token[3:].split(".", 1)
    assert code == 0 and key_id in listed and "counsellor" in listed and "active" in listed
    assert secret not in listed and book.entry(key_id).secret_sha256 not in listed
    as_json = json.loads(run("list", "--format", "json")[1])
    assert [e["key_id"] for e in as_json] == [key_id] and "secret_sha256" not in as_json[0]


def test_an_unknown_structure_is_refused_by_name(book):
    code, output, token = run("add-user", "nowhere")
    assert code == 2 and "'nowhere' is not a structure" in output and token is None
    assert run("add-key", "nowhere")[0] == 2
    assert book.entries() == []


def test_a_partner_key_is_in_intake_and_in_the_book_and_revoked_in_both(book):
    from cli.commands.structures import _with_intake_store
    from services.intake.store import credentials

    code, _, token = run("add-key", "plie_angers")
    assert code == 0
    key_id = token[3:].split(".")[0]
    assert book.check(token).role == "partner" and book.check(token).structure == "plie_angers"
    intake_sees = asyncio.run(_with_intake_store(lambda s, v: credentials.structure_for_bearer(s, token)))
    assert intake_sees == "plie_angers"

    assert run("revoke-key", key_id)[0] == 0
    assert book.check(token) is None
    assert asyncio.run(_with_intake_store(lambda s, v: credentials.structure_for_bearer(s, token))) is None
    assert run("revoke", key_id)[0] == 1  # already revoked everywhere


def test_revoke_takes_a_user_key_out_of_the_book(book):
    _, _, token = run("add-user", "mission_locale_angevine")
    key_id = token[3:].split(".")[0]
    code, output, _ = run("revoke", key_id)
    assert code == 0 and f"revoked {key_id}" in output
    assert book.check(token) is None
    assert "revoked" in run("list")[1]


def test_add_keys_writes_one_partner_key_per_structure_to_the_book_too(book, tmp_path):
    out = tmp_path / "keys.json"
    assert run("add-keys", "--out", str(out))[0] == 0
    keys = json.loads(out.read_text(encoding="utf-8"))
    assert set(keys) == set(TERRITORY.structures_by_id)
    assert all(book.check(token).structure == structure for structure, token in keys.items())
