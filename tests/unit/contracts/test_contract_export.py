"""The committed schemas and AsyncAPI match the code, and export refuses to break v1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from contracts import EVENT_TYPES, topics
from contracts.export import (
    ASYNCAPI,
    CONTRACTS_DIR,
    BreakingChangeError,
    asyncapi_document,
    expected_files,
    export,
)


@pytest.fixture
def contracts_copy(tmp_path: Path) -> Path:
    # a private copy of the committed files, so tests may spoil them
    copy = tmp_path / "contracts"
    (copy / "schemas").mkdir(parents=True)
    for path in (CONTRACTS_DIR / "schemas").glob("*.json"):
        shutil.copy(path, copy / "schemas" / path.name)
    shutil.copy(CONTRACTS_DIR / ASYNCAPI, copy / ASYNCAPI)
    return copy


def test_committed_files_match_the_code():
    assert export(check=True) == []


def test_export_is_stable():
    assert expected_files() == expected_files()
    for content in expected_files().values():
        assert content.endswith("}\n")
        assert json.dumps(json.loads(content), indent=2, sort_keys=True, ensure_ascii=False) + "\n" == content


def test_check_names_stale_missing_and_extra_files(contracts_copy: Path):
    (contracts_copy / "schemas" / "job.ended.v1.json").unlink()
    (contracts_copy / "schemas" / "job.lost.v1.json").write_text("{}\n")
    (contracts_copy / ASYNCAPI).write_text("{}\n")
    problems = export(check=True, directory=contracts_copy)
    assert any("schemas/job.ended.v1.json: missing" in p for p in problems)
    assert any("schemas/job.lost.v1.json: extra file" in p for p in problems)
    assert any("asyncapi.json: differs" in p for p in problems)
    assert not (contracts_copy / "schemas" / "job.ended.v1.json").exists()  # check wrote nothing


def test_check_reports_a_break_against_the_committed_schema(contracts_copy: Path):
    # pretend v1 had once accepted any string as a refusal comment and a "legacy" property
    path = contracts_copy / "schemas" / "referral.refused.v1.json"
    old = json.loads(path.read_text())
    data = old["$defs"]["ReferralRefusedData"]
    data["properties"]["legacy"] = {"type": "string"}
    data["properties"]["comment"]["anyOf"][0].pop("maxLength")
    path.write_text(json.dumps(old))
    problems = export(check=True, directory=contracts_copy)
    assert any("referral.refused.v1.json: differs" in p for p in problems)
    assert any("data.legacy: property removed (breaking)" in p for p in problems)
    assert any("data.comment: maxLength added (500) (breaking)" in p for p in problems)
    with pytest.raises(BreakingChangeError):
        export(check=False, directory=contracts_copy)
    assert json.loads(path.read_text()) == old  # refused: nothing written
    written = export(check=False, directory=contracts_copy, allow_breaking=True)
    assert "contracts/schemas/referral.refused.v1.json" in written
    assert export(check=True, directory=contracts_copy) == []


def test_export_writes_only_what_changed(tmp_path: Path):
    target = tmp_path / "contracts"
    first = export(check=False, directory=target)
    assert len(first) == len(EVENT_TYPES) + 1
    assert export(check=False, directory=target) == []
    assert export(check=True, directory=target) == []


def test_asyncapi_describes_every_topic_and_message():
    doc = asyncapi_document()
    assert doc["asyncapi"].startswith("3.")
    assert {c["address"] for c in doc["channels"].values()} == set(topics.CHANNELS)
    messages = doc["components"]["messages"]
    for cls in EVENT_TYPES.values():
        message = messages[cls.short_type]
        assert (CONTRACTS_DIR / message["payload"]["$ref"]).exists()
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
    for channel in doc["channels"].values():
        for ref in channel["messages"].values():
            assert ref["$ref"].removeprefix("#/components/messages/") in messages
    intake = doc["channels"]["intake"]
    assert "Written by intake" in intake["description"]
    assert "person.registered" in intake["messages"] and "person.identities_merged" in intake["messages"]
    assert "person.identities_merged" not in doc["channels"]["inbound"]["messages"]


def test_readme_lists_every_event_type_and_topic():
    readme = (CONTRACTS_DIR / "README.md").read_text(encoding="utf-8")
    for cls in EVENT_TYPES.values():
        assert f"| `{cls.short_type}` |" in readme, cls.short_type
    for topic in topics.ALL_TOPICS:
        assert f"| `{topic}` |" in readme, topic
