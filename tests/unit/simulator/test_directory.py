"""Placeholders become what a partner would have been told, and only then."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.clock import DayStarted
from contracts.followup import CheckinDue, CheckinDueData
from contracts.referrals import ReferralIssued, ReferralIssuedData
from simulator.directory import Directory, Rewriter, Unresolved
from simulator.year import simulate


@pytest.fixture(scope="module")
def script():
    year = simulate("cite-emploi-angers", people=30, seed=3)
    return next(s for s in year.scripts
                if any(e.type.endswith("referral.accepted") for _d, e in s.events)
                and any(e.type.endswith("checkin_done") for _d, e in s.events))


def test_the_registrar_speaks_with_its_file_number_others_need_the_person_id(script) -> None:  # noqa: ANN001
    directory = Directory()
    rewriter = Rewriter(directory)
    events = [e for _d, e in script.events]
    registration = events[0]
    assert rewriter.prepare(registration) is registration
    own = next(e for e in events[1:] if e.source == registration.source and "checkin" not in e.type)
    assert rewriter.prepare(own) is own
    other = next(e for e in events if e.source != registration.source and e.type.endswith("acknowledged"))
    with pytest.raises(Unresolved):
        rewriter.prepare(other)
    directory.learn(registration.without_identity().model_copy(update={"subject": "p-" + "a" * 32}))
    with pytest.raises(Unresolved):  # the person is known, the referral not yet
        rewriter.prepare(other)
    directory.learn(ReferralIssued(
        source="ariane/referral", subject="p-" + "a" * 32, time=registration.time,
        data=ReferralIssuedData(referral_id="ori-123", kind="orientation", from_structure=registration.source,
                                to_structure=other.source, reason="QPV", due_date=date(2026, 3, 1))))
    sent = rewriter.prepare(other)
    assert sent.subject == "p-" + "a" * 32 and sent.data.referral_id == "ori-123"
    assert sent.id == other.id


def test_checkins_answer_the_due_notice(script) -> None:  # noqa: ANN001
    directory = Directory()
    rewriter = Rewriter(directory)
    events = [e for _d, e in script.events]
    rewriter.prepare(events[0])
    directory.person_by_event[events[0].id] = "p-" + "b" * 32
    checkin = next(e for e in events if e.type.endswith("checkin_done"))
    with pytest.raises(Unresolved):
        rewriter.prepare(checkin)
    anchor, months, due = checkin.data.checkin_id.removeprefix("sim-ask-checkin-").split("-", 2)
    directory.learn(CheckinDue(
        source="ariane/followup", subject="p-" + "b" * 32, time=DayStarted.for_day(date.fromisoformat(due)).time,
        data=CheckinDueData(checkin_id="chk-xyz", structure_id=checkin.source, due_on=date.fromisoformat(due),
                            months_after=int(months), anchor=anchor)))
    sent = rewriter.prepare(checkin)
    assert sent.data.checkin_id == "chk-xyz" and sent.subject == "p-" + "b" * 32
