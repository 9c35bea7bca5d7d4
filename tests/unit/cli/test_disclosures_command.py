"""`ariane intake disclosures`: the audit list as a table, CSV or JSON, read with the caller's own key."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from cli.commands import disclosures
from cli.main import app

ITEMS = [{"disclosure_id": "dis-1", "person_id": "p_" + "a" * 32, "disclosed_to": "mission_locale_angevine",
          "key_id": "k1", "role": "counsellor", "basis": "asked_to_act", "reason": "premier rendez-vous " * 5,
          "disclosed_at": "2025-03-02T08:41:00+00:00"}]


def test_the_audit_list_in_every_format(monkeypatch) -> None:  # noqa: ANN001
    asked: list[tuple[str, str, dict]] = []
    monkeypatch.setattr(disclosures, "_get", lambda base, token, params: asked.append((base, token, params))
                        or ITEMS)
    runner = CliRunner()
    as_json = runner.invoke(app, ["intake", "disclosures", "--person", "p_x", "--format", "json"],
                            env={"ARIANE_TOKEN": "ak_k.s", "ARIANE_INTAKE_URL": "http://intake.test"})
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == ITEMS
    assert asked[0] == ("http://intake.test", "ak_k.s", {"person_id": "p_x"})
    as_csv = runner.invoke(app, ["intake", "disclosures", "--format", "csv", "--token", "ak_k.s"])
    assert list(csv.DictReader(io.StringIO(as_csv.output)))[0]["basis"] == "asked_to_act"
    table = runner.invoke(app, ["intake", "disclosures", "--token", "ak_k.s"])
    assert ITEMS[0]["reason"].strip() in table.output and "1 divulgation(s)" in table.output  # piped: never cut
    assert "…" in disclosures.render_table(ITEMS, 100)
    no_key = runner.invoke(app, ["intake", "disclosures"], env={"ARIANE_TOKEN": ""})
    assert no_key.exit_code != 0
