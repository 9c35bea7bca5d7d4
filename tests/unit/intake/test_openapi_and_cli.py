"""The committed OpenAPI document matches the app; the key commands work on intake's store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.commands import intake as commands


def test_committed_openapi_matches_the_app():
    committed = json.loads(commands.OPENAPI_FILE.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(commands.openapi_document()))
    assert "/v1/events" in committed["paths"]
    post = committed["paths"]["/v1/events"]["post"]
    assert {"202", "400", "401", "403", "409", "413", "415", "422", "503"} <= set(post["responses"])


def test_the_openapi_carries_the_real_event_schemas_and_metrics_as_text():
    committed = json.loads(commands.OPENAPI_FILE.read_text(encoding="utf-8"))
    body = committed["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"][0] == {"$ref": "#/components/schemas/PartnerEvent"}
    variants = committed["components"]["schemas"]["PartnerEvent"]["oneOf"]
    assert len(variants) == 19
    registered = committed["components"]["schemas"]["PersonRegistered"]
    assert {"id", "source", "specversion", "type"} <= set(registered["required"])
    assert "application/cloudevents+json" in committed["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    assert list(committed["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]


def test_add_list_and_revoke_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("ARIANE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}")
    monkeypatch.setenv("ARIANE_CREDENTIALS_FILE", str(tmp_path / "credentials.json"))
    runner = CliRunner()
    added = runner.invoke(commands.app, ["structures", "add-key", "plie_angers"])
    assert added.exit_code == 0, added.output
    token = [line for line in added.output.splitlines() if line.startswith("ak_")][0]
    key_id = token[3:].split(".")[0]
    listed = runner.invoke(commands.app, ["structures", "list-keys"])
    assert key_id in listed.output and "active" in listed.output and token not in listed.output
    assert runner.invoke(commands.app, ["structures", "revoke-key", key_id]).exit_code == 0
    assert "revoked" in runner.invoke(commands.app, ["structures", "list-keys"]).output
    assert runner.invoke(commands.app, ["structures", "revoke-key", key_id]).exit_code == 1
    assert runner.invoke(commands.app, ["structures", "add-key", "nowhere"]).exit_code == 2
