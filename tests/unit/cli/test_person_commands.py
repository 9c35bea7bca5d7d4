"""`ariane person erase` and `ariane person export`: what they ask intake (and followup), and what they print."""

from __future__ import annotations

import json

import httpx
import pytest
import typer
from typer.testing import CliRunner

from cli.commands import person
from cli.main import app

PID = "p_" + "a" * 32
ERASED = {"status": "erased", "erasure_id": "era-1", "person_id": PID, "merged_person_ids": [],
          "erased_on": "2026-03-02", "reason": "person_request", "requested_by": "cap_emploi_49"}


@pytest.fixture
def services(monkeypatch):  # noqa: ANN001, ANN201 - the services as a recording transport
    asked: list[httpx.Request] = []
    answers: dict[str, httpx.Response] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return answers.get(f"{request.method} {request.url.host}{request.url.path}", httpx.Response(404, json={
            "detail": "nothing here"}))

    def fake_client(url, variable, default, token):  # noqa: ANN001, ANN202
        return httpx.Client(base_url=url or default, transport=httpx.MockTransport(answer),
                            headers={"Authorization": f"Bearer {token}"})

    monkeypatch.setattr(person, "client", fake_client)
    return asked, answers


def test_erase_by_a_structures_file_number_and_again(services) -> None:  # noqa: ANN001
    asked, answers = services
    answers["POST 127.0.0.1/v1/erasures"] = httpx.Response(200, json=ERASED)
    runner = CliRunner()
    done = runner.invoke(app, ["person", "erase", "--structure", "cap_emploi_49", "--file-number", "CAP-12",
                               "--reason", "person_request", "--token", "ak_k.s"])
    assert done.exit_code == 0, done.output
    assert json.loads(asked[0].content) == {"reason": "person_request", "file_number": "CAP-12",
                                            "structure_id": "cap_emploi_49"}
    assert "Personne effacée" in done.output and PID in done.output and "era-1" in done.output
    answers["POST 127.0.0.1/v1/erasures"] = httpx.Response(200, json={**ERASED, "status": "already_erased"})
    again = runner.invoke(app, ["person", "erase", "--person", PID, "--reason", "person_request", "--token", "t"])
    assert "Déjà effacée" in again.output and json.loads(asked[1].content) == {"reason": "person_request",
                                                                             "person_id": PID}
    answers["POST 127.0.0.1/v1/erasures"] = httpx.Response(403, json={"detail": "an auditor key lists"})
    refused = runner.invoke(app, ["person", "erase", "--person", PID, "--reason", "person_request", "--token", "t"])
    assert refused.exit_code == 1 and "403 an auditor key lists" in refused.output


@pytest.mark.parametrize("person_id, structure, number, reason", [
    (None, None, None, "person_request"), (PID, None, "CAP-1", "person_request"), (PID, "cap", None, "person_request"),
    (PID, None, None, "because")])
def test_a_person_is_named_exactly_one_way_with_a_reason_of_the_vocabulary(person_id, structure, number,
                                                                           reason) -> None:
    with pytest.raises(typer.BadParameter):
        person.erasure_request(person_id, structure, number, reason)


def test_export_prints_what_intake_holds_and_followups_timeline(services) -> None:  # noqa: ANN001
    asked, answers = services
    answers[f"GET 127.0.0.1/v1/people/{PID}/export"] = httpx.Response(200, json={"person_id": PID, "identity": {}})
    answers[f"GET 127.0.0.1/v1/people/{PID}/timeline"] = httpx.Response(200, json={"entries": []})
    out = CliRunner().invoke(app, ["person", "export", "--person", PID, "--token", "t"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {"intake": {"person_id": PID, "identity": {}},
                                      "followup_timeline": {"entries": []}}
    assert asked[0].url.params["reason"] and asked[1].url.port == 8103
    answers[f"GET 127.0.0.1/v1/people/{PID}/export"] = httpx.Response(410, json={"detail": "this person was erased"})
    gone = CliRunner().invoke(app, ["person", "export", "--person", PID, "--token", "t"])
    assert gone.exit_code == 1 and "410 this person was erased" in gone.output
