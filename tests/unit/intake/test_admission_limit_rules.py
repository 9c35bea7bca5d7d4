"""Intake's admission limit as a partner meets it: taken while there is room, told to come back past it, and never
turned away when intake has nothing else to do (or a large batch could never be sent)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.intake.api.door import Door
from services.intake.domain.door import may_enter


def test_a_request_is_taken_while_there_is_room_and_told_to_wait_past_the_limit():
    assert may_enter(in_flight=990, events=10, limit=1000)
    assert not may_enter(in_flight=991, events=10, limit=1000)


@given(events=st.integers(1, 500), limit=st.integers(1, 2000))
def test_an_idle_intake_takes_any_batch_even_one_above_the_limit(events, limit):
    assert may_enter(in_flight=0, events=events, limit=limit)


def test_the_door_counts_a_request_until_it_is_answered_and_turns_away_the_one_that_does_not_fit():
    door = Door(limit=5)
    with door.entered(4) as first:
        assert first and door.in_flight == 4
        with door.entered(2) as second:
            assert not second and door.in_flight == 4
        with door.entered(1) as third:
            assert third and door.in_flight == 5
    assert door.in_flight == 0


def test_a_request_that_fails_leaves_the_door_free():
    door = Door(limit=5)
    try:
        with door.entered(3):
            raise RuntimeError("the store went away")
    except RuntimeError:
        pass
    assert door.in_flight == 0
