"""The tick reads only the people whose referrals say a check is due (`next_checks`, stored as `next_check_on`).
That is safe only if a tick before that day would change nothing, and worth it only if the tick of that day does
change something (otherwise the person is read again on every tick that follows)."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.clock import DayStarted
from contracts.territory import load_territory
from services.referral.domain.lifecycle import DomainRejection, PersonState, next_checks, on_day
from tests.unit.referral.test_lifecycle import PERSON, START, apply, step, to_event

TERRITORY = load_territory()


def _after(steps: list) -> PersonState:
    state, history = PersonState(person_id=PERSON), []
    for n, s in enumerate(steps):
        event = to_event(s, n, state, history)
        if event is None:
            continue
        try:
            state = apply(state, event).state
        except DomainRejection:
            pass
        history.append(event)
    return state


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=30), st.integers(0, 200))
def test_a_person_is_due_exactly_when_a_tick_has_something_to_do(steps: list, offset: int) -> None:
    state = _after(steps)
    checks = [d for d in next_checks(state, TERRITORY.referral_sla).values() if d is not None]
    day = START + timedelta(days=offset)
    changed = on_day(state, DayStarted.for_day(day), TERRITORY).state != state
    if not checks or day < min(checks):
        assert not changed  # not read by that tick: it must have had nothing to do
    else:
        assert changed  # read by that tick: it moves the person's next check on (or to none)


def test_a_closed_case_is_never_due() -> None:
    state = _after([("register", 0, "france_travail_angers_centre", 2005, False, False, False, False),
                    ("accept", 2, 0, None)])
    assert any(d is not None for d in next_checks(state, TERRITORY.referral_sla).values())
    closed = state.model_copy(update={"closed_on": START + timedelta(days=3)})
    assert set(next_checks(closed, TERRITORY.referral_sla).values()) == {None}
