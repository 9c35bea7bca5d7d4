"""`ariane worklist` and `ariane timeline` name people by their structure's file numbers read from intake, and
still print everything, each person by their id, when intake does not answer."""

from __future__ import annotations

import csv
import io
import json

import httpx
from typer.testing import CliRunner

from cli.commands import worklist
from cli.main import app

ML, CAP = "mission_locale_angevine", "cap_emploi_49"
LINA, YANIS = "p_" + "a" * 32, "p_" + "b" * 32
LINES = [{"person_id": LINA, "structure_id": ML, "file_number": None, "kind": "checkin_due", "answer_id": "chk-1",
          "reason": "job+1m", "expected": "joindre la personne", "since": "2026-02-25", "days": 3,
          "timeline_url": f"/v1/people/{LINA}/timeline"},
         {"person_id": YANIS, "structure_id": CAP, "file_number": None, "kind": "lost", "answer_id": None,
          "reason": "no_contact", "expected": "la retrouver", "since": "2026-01-02", "days": 60,
          "timeline_url": f"/v1/people/{YANIS}/timeline"}]
# What intake holds: the Mission locale's number for Lina; Cap emploi gave none for Yanis.
NUMBERS = [{"person_id": LINA, "structure_id": ML, "file_number": "ML49-2026-0042"}]


def _services(monkeypatch, intake_answers: bool, followup_asked: list) -> None:  # noqa: ANN001
    def followup(request: httpx.Request) -> httpx.Response:
        followup_asked.append(dict(request.url.params))
        if request.url.path.endswith("/timeline"):
            return httpx.Response(200, json={"person_id": LINA, "state": "held", "file_number": None,
                                             "entries": []})
        return httpx.Response(200, json={"items": LINES, "page_size": 1000, "total": len(LINES)})

    def intake(request: httpx.Request) -> httpx.Response:
        if not intake_answers:
            raise httpx.ConnectError("nothing answers")
        asked = json.loads(request.content)
        found = [n for n in NUMBERS if n["person_id"] in asked.get("person_ids", [])
                 or n["file_number"] in asked.get("file_numbers", [])]
        return httpx.Response(200, json={"items": found})

    monkeypatch.setattr(worklist, "followup_client", lambda url, token: httpx.Client(
        base_url="http://followup.test", transport=httpx.MockTransport(followup)))
    monkeypatch.setattr(worklist, "intake_client", lambda url, token: httpx.Client(
        base_url="http://intake.test", transport=httpx.MockTransport(intake)))


def test_the_worklist_shows_the_structures_own_file_numbers_read_from_intake(monkeypatch) -> None:  # noqa: ANN001
    asked: list = []
    _services(monkeypatch, intake_answers=True, followup_asked=asked)
    runner = CliRunner()
    as_csv = runner.invoke(app, ["worklist", "--format", "csv"], env={"ARIANE_TOKEN": "ak_k.s"})
    assert as_csv.exit_code == 0, as_csv.output
    rows = {r["person_id"]: r["file_number"] for r in csv.DictReader(io.StringIO(as_csv.stdout))}
    assert rows == {LINA: "ML49-2026-0042", YANIS: ""}
    table = runner.invoke(app, ["worklist"], env={"ARIANE_TOKEN": "ak_k.s"})
    assert table.stdout.splitlines()[1].startswith("ML49-2026-0042") and YANIS in table.stdout
    # A counsellor searches by the number as they know it: followup is asked for the person it names.
    runner.invoke(app, ["worklist", "-q", "ML49-2026-0042"], env={"ARIANE_TOKEN": "ak_k.s"})
    assert asked[-1]["q"] == LINA
    timeline = runner.invoke(app, ["timeline", LINA], env={"ARIANE_TOKEN": "ak_k.s"})
    assert timeline.stdout.startswith(f"{LINA} — dossier ML49-2026-0042: held"), timeline.output


def test_without_intake_the_worklist_still_prints_and_says_numbers_are_unavailable(monkeypatch) -> None:  # noqa: ANN001
    asked: list = []
    _services(monkeypatch, intake_answers=False, followup_asked=asked)
    runner = CliRunner()
    table = runner.invoke(app, ["worklist"], env={"ARIANE_TOKEN": "ak_k.s"})
    assert table.exit_code == 0, table.output
    assert [line.split()[0] for line in table.stdout.splitlines()[1:3]] == [LINA, YANIS]
    assert "file numbers are unavailable" in table.stderr
    as_csv = runner.invoke(app, ["worklist", "--format", "csv"], env={"ARIANE_TOKEN": "ak_k.s"})
    assert {r["file_number"] for r in csv.DictReader(io.StringIO(as_csv.stdout))} == {"[unavailable]"}
    searched = runner.invoke(app, ["worklist", "-q", "ML49-2026-0042"], env={"ARIANE_TOKEN": "ak_k.s"})
    assert searched.exit_code == 0 and asked[-1]["q"] == "ML49-2026-0042"  # followup searches as typed
    timeline = runner.invoke(app, ["timeline", LINA], env={"ARIANE_TOKEN": "ak_k.s"})
    assert timeline.exit_code == 0 and "n° de dossier indisponible" in timeline.stdout
