"""What followup forgets of an erased person: the structures' file numbers, and nothing that decides a state."""

from __future__ import annotations

from datetime import timedelta

from builders import START, contact, entered, issued, registered
from hypothesis import given
from hypothesis import strategies as st

from contracts.territory import FollowupThresholds
from services.followup.domain import PersonFile, Rules, file_numbers, status_of, timeline, worklist_lines
from services.followup.domain.erasure import forget_person
from services.followup.domain.facts import fact_of

RULES = Rules(FollowupThresholds(), coordinator="coordination_territoriale", remind_days=3)


def numbered(event, number: str):  # noqa: ANN001, ANN201 - a builder's event with the structure's file number
    return event.model_copy(update={"data": event.data.model_copy(update={"partner_ref": number})})


def story(days: list[int]) -> PersonFile:
    events = [numbered(registered("P", 0), "FT-778"),
              numbered(registered("P", 0, eid="P-reg-ml", structure="mission_locale_angevine"), "ML49-0042"),
              issued("P", 0, "ref-p"), entered("P", 1, "plie_parcours", "plie_angers")]
    events += [contact("P", day, "plie_angers") for day in days]
    return PersonFile("P", tuple(fact_of(e) for e in events))


@given(st.lists(st.integers(0, 200), max_size=6), st.integers(0, 400))
def test_an_erased_file_has_no_file_number_and_the_same_state_lines_and_timeline(days: list[int], today: int) -> None:
    file, day = story(days), START + timedelta(days=today)
    gone = forget_person(file)
    assert file_numbers(file.facts) == {"france_travail_angers_centre": "FT-778",
                                        "mission_locale_angevine": "ML49-0042"}
    assert file_numbers(gone.facts) == {}
    assert "FT-778" not in repr(gone) and "ML49-0042" not in repr(gone)
    assert [(f.id, f.kind, f.day, f.structure, f.ref) for f in gone.facts] == \
        [(f.id, f.kind, f.day, f.structure, f.ref) for f in file.facts]
    status = status_of(file, day, RULES)
    assert status_of(gone, day, RULES) == status
    assert [(x.kind, x.structure_id, x.answer_id) for x in worklist_lines("P", status, day, RULES, {})] == \
        [(x.kind, x.structure_id, x.answer_id) for x in worklist_lines("P", status, day, RULES,
                                                                        file_numbers(file.facts))]
    assert [(e.day, e.kind) for e in timeline(gone, status, RULES, day)] == \
        [(e.day, e.kind) for e in timeline(file, status, RULES, day)]
    assert forget_person(gone) == gone
