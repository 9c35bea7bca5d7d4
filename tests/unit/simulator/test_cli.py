"""`ariane simulate` writes the year and its truth, and says what to expect."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.commands.simulate import app


def test_simulate_writes_events_and_truth_without_sending(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--preset", "par-emploi", "--seed", "3", "--via", "none",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "truth.json").read_text())
    lines = (tmp_path / "events.jsonl").read_bytes().splitlines()
    assert truth["people"] and len(truth["people"]) == 63
    assert len(lines) > 365
    assert f"expected lost {truth['report']['lost_people']}" in " ".join(result.output.split())


def test_simulate_refuses_an_unknown_preset_or_speed(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["--preset", "nowhere", "--via", "none", "--out", str(tmp_path)]).exit_code != 0
    assert runner.invoke(app, ["--speed", "slow", "--via", "none", "--out", str(tmp_path)]).exit_code != 0
