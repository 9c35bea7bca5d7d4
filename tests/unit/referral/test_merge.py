"""Two files of one person folded into one (`domain/merge.py`), whatever each file went through before."""

from collections import Counter
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.clock import DayStarted
from contracts.people import PersonIdentitiesMerged, PersonIdentitiesMergedData
from contracts.referrals import ReferralReminderSent
from services.referral.domain.lifecycle import OPEN, DomainRejection, PersonState
from services.referral.domain.merge import gathered, is_blank, merge
from tests.unit.referral.test_lifecycle import START, TERRITORY, apply, step, to_event

KEPT, MERGED = "p-kept", "p-merged"


def file_of(person_id: str, steps: list) -> PersonState:
    """A person's state after a sequence of facts; the events' ids are the file's own (one clock for both)."""
    state, history = PersonState(person_id=person_id), []
    for n, s in enumerate(steps):
        event = to_event(s, n, state, history)
        if event is None:
            continue
        if not isinstance(event, DayStarted) and event not in history:
            event = event.model_copy(update={"id": f"{person_id}:{event.id}"})
        try:
            state = apply(state, event).state
        except DomainRejection:
            pass
        history.append(event)
    return state


def merge_event() -> PersonIdentitiesMerged:
    return PersonIdentitiesMerged(
        id="merge-1", source="ariane/intake", subject=KEPT, time=datetime(2026, 5, 1, 10, tzinfo=timezone.utc),
        data=PersonIdentitiesMergedData(kept_person_id=KEPT, merged_person_id=MERGED, rule="manual"))


def known_ids(state: PersonState) -> set[str]:
    return set(state.referrals) | set(state.aliases)


files = st.lists(step, max_size=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files, files)
def test_every_referral_of_either_file_is_kept_once(a: list, b: list) -> None:
    kept, merged = file_of(KEPT, a), file_of(MERGED, b)
    result = merge(kept, merged, merge_event(), TERRITORY)
    state = result.state
    assert state.person_id == KEPT and state.merged_into is None
    # Each referral either file knew is found: itself, or (joined) through an alias to one that is there.
    for rid in known_ids(kept) | known_ids(merged):
        assert state.aliases.get(rid, rid) in state.referrals, rid
    assert not set(state.aliases) & set(state.referrals)
    # Nothing is invented: besides what the two files had, only referrals the merge's own events issue.
    issued_now = {e.data.referral_id for e in result.events if e.type.endswith(".issued")}
    assert set(state.referrals) <= known_ids(kept) | known_ids(merged) | issued_now
    # One open referral per structure, so one reminder and one expiry per deadline for the person.
    open_to = Counter(r.to_structure for r in state.referrals.values() if r.status in OPEN)
    assert all(n == 1 for n in open_to.values()), open_to
    # A rule fired for either file counts as fired for the person.
    assert set(state.fired_rules) == set(kept.fired_rules) | set(merged.fired_rules)
    assert len(state.fired_rules) == len(set(state.fired_rules))
    # Every waiting answer is still waiting, or its referral is now known (applied, or refused as misdirected).
    for key, answers in (gathered(kept, merged)).pending.items():
        if key in state.pending:
            assert {a.event_id for a in answers} <= {a.event_id for a in state.pending[key]}
        else:
            assert state.aliases.get(key, key) in state.referrals


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files, files)
def test_merging_again_changes_nothing(a: list, b: list) -> None:
    kept, merged = file_of(KEPT, a), file_of(MERGED, b)
    once = merge(kept, merged, merge_event(), TERRITORY)
    twice = merge(once.state, merged, merge_event(), TERRITORY)
    assert twice.events == ()
    assert twice.state == once.state


@settings(max_examples=100, deadline=None)
@given(files)
def test_a_file_merged_with_nothing_is_unchanged(a: list) -> None:
    kept = file_of(KEPT, a)
    assert merge(kept, PersonState(person_id=MERGED), merge_event(), TERRITORY).state == kept
    if not is_blank(kept):
        # A kept id that knew nothing yet takes the merged file as it was, under its own id.
        moved = merge(PersonState(person_id=MERGED), kept.model_copy(update={"person_id": KEPT}), merge_event(),
                      TERRITORY).state
        assert moved.referrals == kept.referrals and moved.fired_rules == kept.fired_rules


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files, files, st.lists(st.integers(0, 200), max_size=8))
def test_after_the_merge_each_deadline_is_reminded_once(a: list, b: list, days: list) -> None:
    state = merge(file_of(KEPT, a), file_of(MERGED, b), merge_event(), TERRITORY).state
    reminders: list = []
    for day in sorted(set(days)):
        decision = apply(state, DayStarted.for_day(START + timedelta(days=day)))
        state = decision.state
        assert all(e.subject == KEPT for e in decision.events)
        reminders += [(e.data.referral_id, e.data.deadline) for e in decision.events
                      if isinstance(e, ReferralReminderSent)]
    assert len(reminders) == len(set(reminders))
