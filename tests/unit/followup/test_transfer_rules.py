"""Caseload transfers from the structures' side: who holds the person, who must act, and whose check-ins."""

from __future__ import annotations

from datetime import timedelta

from builders import START, accepted, at, entered, exited, issued, job_started, registered
from hypothesis import given
from hypothesis import strategies as st

from contracts.caseload import CaseloadTransferred, CaseloadTransferredData
from contracts.territory import FollowupThresholds
from services.followup.domain import PersonFile, Rules, State, status_of, timeline, worklist_lines
from services.followup.domain.facts import fact_of

RULES = Rules(FollowupThresholds(), coordinator="coordination_territoriale", remind_days=3)
ML, PLIE, SIAE = "mission_locale_angevine", "plie_angers", "siae_regie_quartiers"


def transfer(day: int, src: str, dst: str, src_c: str | None = None, dst_c: str | None = None, sent: int = 0,
             tid: str = "tr-1") -> CaseloadTransferred:
    return CaseloadTransferred(id=f"P-{tid}", source=src, subject="P", time=at(sent),
                               data=CaseloadTransferredData(transfer_id=tid, from_structure=src, from_counsellor=src_c,
                                                            to_structure=dst, to_counsellor=dst_c,
                                                            effective_on=START + timedelta(days=day),
                                                            reason="counsellor_left"))


def with_counsellor(event, ref):
    return event.model_copy(update={"data": event.data.model_copy(update={"counsellor_ref": ref})})


def file_of(*events) -> PersonFile:
    return PersonFile("P", tuple(fact_of(e) for e in events))


def on(file: PersonFile, day: int):
    return status_of(file, START + timedelta(days=day), RULES)


def test_a_counsellor_hands_over_from_the_effective_day():
    file = file_of(registered("P", 0), issued("P", 0, "ref-p"), with_counsellor(accepted("P", 2, "ref-p"), "c-42"),
                   transfer(10, ML, ML, "c-42", "c-107"))
    assert on(file, 9).caseload == ((ML, "c-42"),)
    assert on(file, 10).caseload == ((ML, "c-107"),)
    assert on(file, 10).state == State.ACCOMPANIED


def test_another_counsellors_transfer_moves_nobody():
    file = file_of(registered("P", 0), issued("P", 0, "ref-p"), with_counsellor(accepted("P", 2, "ref-p"), "c-7"),
                   transfer(10, ML, ML, "c-42", "c-107"))
    assert on(file, 20).caseload == ((ML, "c-7"),)


def test_a_structure_closing_hands_over_its_lost_people_and_its_checkins():
    # The SIAE lets the person leave with no next step on day 10; on day 50 they are lost, the SIAE to act.
    # The SIAE closes and hands everything to the PLIE from day 55.
    base = (registered("P", 0), entered("P", 1, "iae_regie", SIAE), exited("P", 10, "iae_regie", SIAE))
    before = file_of(*base)
    after = file_of(*base, transfer(55, SIAE, PLIE, sent=52))
    assert on(before, 50).structure_to_act == SIAE
    day = START + timedelta(days=56)
    lines = worklist_lines("P", on(after, 56), day, RULES)
    assert {(x.kind, x.structure_id) for x in lines} >= {("lost", PLIE)}
    assert all(x.structure_id == PLIE for x in lines)  # the check-ins after the exit too
    assert on(after, 56).risk_key == on(before, 56).risk_key  # the same episode: no second alert


def test_the_new_holder_is_the_one_whose_exit_ends_the_hold():
    file = file_of(registered("P", 0), job_started("P", 1, "job-1", structure=ML, contract="cdd"),
                   issued("P", 0, "ref-p"), accepted("P", 2, "ref-p"), transfer(10, ML, PLIE))
    status = on(file, 12)
    assert set(status.holders) == {PLIE} and status.state == State.IN_EMPLOYMENT
    entries = [e for e in timeline(file, status, RULES, START + timedelta(days=12)) if e.kind == "caseload_transferred"]
    assert [(e.day - START).days for e in entries] == [10] and PLIE in entries[0].label


@given(st.integers(0, 60), st.integers(0, 60), st.booleans())
def test_a_transfer_never_changes_whether_someone_is_held(effective, today, by_counsellor):
    """Whatever the day it takes effect, a handover moves who holds the person, never whether anyone does."""
    base = (registered("P", 0), issued("P", 0, "ref-p"), with_counsellor(accepted("P", 2, "ref-p"), "c-42"),
            entered("P", 5, "iae_regie", SIAE), exited("P", 30, "iae_regie", SIAE))
    moved = transfer(effective, ML, PLIE, "c-42" if by_counsellor else None, "c-9")
    assert on(file_of(*base), today).state == on(file_of(*base, moved), today).state
