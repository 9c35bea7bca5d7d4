"""`ariane contracts export --check` and `validate`, as a developer or a partner runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.commands.contracts import app

EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"
runner = CliRunner()


def test_check_passes_on_the_committed_files():
    result = runner.invoke(app, ["export", "--check"])
    assert result.exit_code == 0, result.output


def test_validate_prints_field_errors_and_fails(tmp_path: Path):
    bad = json.loads((EXAMPLES / "training.started.json").read_text())
    bad["data"]["qualifying"] = "sometimes"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = runner.invoke(app, ["validate", str(EXAMPLES / "job.started.json"), str(path)])
    assert result.exit_code == 1
    assert "data.qualifying" in result.output
