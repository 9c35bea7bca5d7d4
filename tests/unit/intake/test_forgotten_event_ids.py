"""After an erasure intake keeps digests of the partners' event ids, not the ids (which may hold a file number):
the same (source, id) always finds the same digest, two sources or two ids never share one, and nothing in it
shows the id."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain import erasure

SECRET = b"territory-secret-for-tests"
ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z")
sources = st.sampled_from(["cap_emploi_49", "mission_locale_angevine", "france_travail_angers_est"])


@given(sources, ids)
def test_the_same_event_sent_again_finds_its_forgotten_row(source, event_id):
    forgotten = erasure.forgotten_event_id(SECRET, source, event_id)
    assert forgotten == erasure.forgotten_event_id(SECRET, source, event_id)
    assert len(forgotten) <= 128 and len(erasure.forgotten_published_id(SECRET, event_id)) <= 160
    assert re.fullmatch(r"erased:[0-9a-f]{64}", forgotten)  # the same shape whatever the id: nothing of it shows


@given(sources, sources, ids, ids)
def test_another_source_or_another_id_is_another_row(source_a, source_b, id_a, id_b):
    if (source_a, id_a) != (source_b, id_b):
        assert erasure.forgotten_event_id(SECRET, source_a, id_a) != erasure.forgotten_event_id(SECRET, source_b, id_b)


def test_the_digests_need_the_territory_key():
    file_number_in_id = "CAP-2025-0042-inscription"
    assert erasure.forgotten_event_id(SECRET, "cap_emploi_49", file_number_in_id) != erasure.forgotten_event_id(
        b"another territory", "cap_emploi_49", file_number_in_id)
    content = "ab" * 32
    assert erasure.forgotten_content(SECRET, content) == erasure.forgotten_content(SECRET, content) != content
