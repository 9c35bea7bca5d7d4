"""An auditor exports the log after Lina was erased: her registration and her profile update keep their facts
but no longer Cap emploi's file number; Noah's records, and anything that is not an event, stay byte for byte."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from contracts import parse_event
from contracts.erasure import ERASED_FILE_NUMBER, erased_people, without_file_number

LINA, FOLDED_INTO_LINA, NOAH = "p_lina", "p_lina_before_merge", "p_noah"


def _event(type_: str, subject: str, data: dict) -> bytes:
    return json.dumps({"specversion": "1.0", "id": f"{type_}-{subject}", "source": "cap_emploi_49",
                       "type": f"fr.ariane.{type_}", "subject": subject, "time": "2025-02-03T14:05:00+01:00",
                       "data": data}).encode()


def _registered(subject: str, ref: str) -> bytes:
    return _event("person.registered", subject, {
        "structure_id": "cap_emploi_49", "registered_on": "2025-02-03", "birth_year": 2003, "commune_insee": "49007",
        "qpv_resident": False, "rqth": True, "rsa": False, "single_parent": False, "education_level": "4",
        "partner_ref": ref})


ERASED = _event("person.erased", LINA, {
    "erasure_id": "era-1", "person_id": LINA, "erased_on": "2025-06-02", "reason": "person_request",
    "requested_by": "coordination_territoriale", "merged_person_ids": [FOLDED_INTO_LINA]})


def test_the_erased_persons_file_numbers_are_gone_and_the_rest_stays():
    log = [_registered(FOLDED_INTO_LINA, "CAP-0041"), _registered(LINA, "CAP-0042"),
           _event("person.profile_updated", LINA, {"structure_id": "cap_emploi_49", "partner_ref": "CAP-0042-B"}),
           _registered(NOAH, "ML-7"), b"not json \xff", ERASED]
    erased = erased_people(log)
    assert erased == {LINA, FOLDED_INTO_LINA}
    kept = [without_file_number(value, erased) for value in log]
    assert not [v for v in kept if b"CAP-004" in v]
    assert kept[3:] == log[3:]  # Noah, the stray record and the erasure itself: untouched
    for value in kept[:3]:
        event = parse_event(json.loads(value))  # still a valid event: a replay of the archive folds it
        assert event.data.partner_ref == ERASED_FILE_NUMBER
        assert event.data.structure_id == "cap_emploi_49"
    assert parse_event(json.loads(kept[1])).data.rqth is True


def test_a_log_without_an_erasure_is_copied_as_it_is():
    log = [_registered(LINA, "CAP-0042"), _registered(NOAH, "ML-7")]
    assert erased_people(log) == frozenset()
    assert [without_file_number(v, erased_people(log)) for v in log] == log


@given(st.binary(max_size=200) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8).map(lambda v: json.dumps(v).encode()))
def test_a_value_about_nobody_erased_is_returned_byte_for_byte(value):
    assert without_file_number(value, {LINA}) == value
