"""What intake publishes of a structure's file number (nothing), and who reads which structure's numbers back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from contracts.events import parse_event
from services.intake.domain import file_numbers, publication
from services.intake.domain.disclosure import Caller

ML, CAP, COORD = "mission_locale_angevine", "cap_emploi_49", "coordination_territoriale"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _event(type_: str, data: dict) -> object:
    return parse_event(json.dumps({"specversion": "1.0", "id": "evt-1", "source": ML, "type": f"fr.ariane.{type_}",
                                   "subject": "ML49-2026-0042", "time": "2026-03-02T10:00:00+01:00",
                                   "data": data}).encode())


REGISTERED = {"structure_id": ML, "registered_on": "2026-03-02", "birth_year": 2004, "commune_insee": "49007",
              "qpv_resident": True, "rqth": False, "rsa": False, "single_parent": False, "education_level": "4",
              "partner_ref": "ML49-2026-0042",
              "identity": {"last_name": "Benali", "first_names": "Yanis", "birth_date": "2004-07-19"}}


def test_a_registration_is_published_without_its_file_number_nor_its_identity():
    [out] = publication.to_publish(_event("person.registered", REGISTERED), "p_" + "a" * 32, (), NOW)
    text = out.to_json_bytes().decode()
    assert "ML49-2026-0042" not in text and "Benali" not in text
    assert out.subject == "p_" + "a" * 32 and out.data.birth_year == 2004  # the facts stay


def test_a_profile_update_that_only_gives_a_file_number_publishes_nothing():
    only_number = _event("person.profile_updated", {"structure_id": ML, "partner_ref": "ML49-2026-0042"})
    assert publication.to_publish(only_number, "p_" + "a" * 32, (), NOW) == []
    moved = _event("person.profile_updated", {"structure_id": ML, "partner_ref": "ML49-2026-0042",
                                               "commune_insee": "49353"})
    [out] = publication.to_publish(moved, "p_" + "a" * 32, (), NOW)
    assert out.data.commune_insee == "49353" and out.data.partner_ref is None


@pytest.mark.parametrize(("role", "structure", "asked", "reads"), [
    ("partner", ML, None, ML), ("counsellor", ML, None, ML), ("counsellor", ML, ML, ML),
    ("coordinator", COORD, None, None), ("coordinator", COORD, CAP, CAP),
])
def test_a_structure_reads_its_own_numbers_the_coordinator_any_structures(role, structure, asked, reads):
    assert file_numbers.structure_read(Caller("k1", role, structure), asked) == reads


@pytest.mark.parametrize(("role", "structure", "asked"), [
    ("counsellor", ML, CAP), ("partner", ML, COORD), ("auditor", "angers-loire-metropole", None),
    ("auditor", "angers-loire-metropole", ML),
])
def test_no_one_else_reads_a_structures_numbers(role, structure, asked):
    with pytest.raises(file_numbers.NotAllowed):
        file_numbers.structure_read(Caller("k1", role, structure), asked)
