"""The commands on an archive and a SQLite store: replay, report in three formats, as-of, verify-log."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from contracts.territory import load_territory
from cli.commands.reporting import app
from services.reporting.domain.digest import digest
from services.reporting.domain.projection import fold
from services.reporting.domain.report import build_report
from services.reporting.store.archive import write_archive
from local.sample import sample_events
from services.runtime.records import Record

runner = CliRunner()


def make_archive(path: Path) -> list:
    pairs = sample_events(people=25, seed=4)
    write_archive(path, [(t, Record(t, 0, n, e.subject.encode(), e.to_json_bytes())) for n, (t, e) in enumerate(pairs)],
                  topics=sorted({t for t, _ in pairs}))
    return [e for _, e in pairs]


def test_replay_then_report_in_every_format(tmp_path: Path) -> None:
    events = make_archive(tmp_path / "log.gz")
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    expected = digest(build_report(fold(events), territory=load_territory().id))

    replayed = runner.invoke(app, ["replay", "--archive", str(tmp_path / "log.gz"), "--database-url", url,
                                   "--format", "json"])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["digest"] == expected

    as_json = runner.invoke(app, ["report", "--database-url", url, "--format", "json"])
    assert json.loads(as_json.stdout)["digest"] == expected
    as_csv = runner.invoke(app, ["report", "--database-url", url, "--format", "csv"])
    assert as_csv.stdout.startswith("table,state,structure,persons\n")
    assert as_csv.stdout.rstrip().endswith(expected)
    as_rich = runner.invoke(app, ["report", "--database-url", url])
    assert "Dispositifs (Par'Emploi report)" in as_rich.stdout and expected in as_rich.stdout


def test_as_of_gives_the_figures_known_that_day(tmp_path: Path) -> None:
    make_archive(tmp_path / "log.gz")
    early = runner.invoke(app, ["replay", "--archive", str(tmp_path / "log.gz"), "--as-of", "2025-02-01",
                                "--format", "json", "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"])
    late = runner.invoke(app, ["replay", "--archive", str(tmp_path / "log.gz"), "--format", "json",
                               "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"])
    early_out, late_out = json.loads(early.stdout), json.loads(late.stdout)
    assert early_out["folded"] < late_out["folded"]
    assert early_out["report"]["period"]["end"] == "2025-02-01"
    assert early_out["digest"] != late_out["digest"]


def test_verify_log_accepts_an_intact_archive_and_replay_refuses_a_broken_one(tmp_path: Path) -> None:
    make_archive(tmp_path / "log.gz")
    assert runner.invoke(app, ["verify-log", str(tmp_path / "log.gz")]).exit_code == 0
    (tmp_path / "cut.gz").write_bytes((tmp_path / "log.gz").read_bytes()[:-40])
    assert runner.invoke(app, ["verify-log", str(tmp_path / "cut.gz")]).exit_code == 1
    assert runner.invoke(app, ["replay", "--archive", str(tmp_path / "cut.gz")]).exit_code == 2
