"""When the supervisor starts a service again: the operator's story, on the pure record (local/restarts.py).

A service that keeps dying waits longer each time (1, 2, 4 ... 30 s), is never given up, is shown as crash-looping
after five quick exits, and is forgiven once it has stayed up a minute.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from local.restarts import Life, RestartPolicy, due, exited, settled, started, stopped

POLICY = RestartPolicy()  # the defaults an operator gets: 1 s doubling to 30 s, forgiven after 60 s up, loop at 5


def crash_at_start(times: int, policy: RestartPolicy = POLICY) -> tuple[Life, list[float]]:
    """A service that exits half a second after each start, `times` times; the waits the supervisor chose."""
    life, now, waits = Life(), 0.0, []
    for _ in range(times):
        life = started(life, pid=100, now=now)
        now += 0.5
        life = exited(life, 1, now, policy)
        assert life.next_start_at is not None
        waits.append(round(life.next_start_at - now, 6))
        now = life.next_start_at
    return life, waits


def test_a_service_crashing_at_start_waits_1_2_4_8_16_then_30_seconds_and_never_less():
    _, waits = crash_at_start(9)
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30, 30]


def test_it_is_shown_as_crash_looping_from_the_fifth_quick_exit_and_still_gets_a_next_start():
    life, _ = crash_at_start(4)
    assert life.state == "backing_off"
    life, _ = crash_at_start(5)
    assert life.state == "crash_looping"
    assert life.next_start_at is not None
    assert life.last_exit_code == 1
    assert life.restarts == 4 and life.quick_exits == 5


def test_a_start_is_due_at_its_time_not_before():
    life = exited(started(Life(), 1, 0.0), 3, 0.2, POLICY)  # waits 1 s from 0.2
    assert not due(life, 1.1)
    assert due(life, 1.2)
    assert not due(started(life, 2, 1.2), 5.0)  # running: nothing to start


def test_after_a_minute_up_its_earlier_exits_are_forgiven():
    life, _ = crash_at_start(6)  # waiting 30 s
    assert life.next_start_at is not None
    life = started(life, 7, life.next_start_at)
    up_since = life.started_at
    assert settled(life, up_since + 59, POLICY).quick_exits == 6  # not yet
    assert settled(life, up_since + 60, POLICY).quick_exits == 0
    crashed = exited(life, 70, up_since + 600, POLICY)  # then, much later, it dies once
    assert crashed.next_start_at == up_since + 600 + 1
    assert started(crashed, 8, up_since + 601).last_wait_s == 1  # what a report of the restart says it waited
    assert crashed.state == "backing_off"


def test_stopping_keeps_the_exit_code_and_counts_no_exit():
    life = stopped(started(Life(), 9, 0.0), 0, 3.0)
    assert (life.state, life.last_exit_code, life.quick_exits, life.next_start_at) == ("stopped", 0, 0, None)


def test_a_child_that_could_not_even_be_started_waits_like_one_that_exited():
    life = exited(started(Life(), None, 0.0), None, 0.0, POLICY)
    assert life.state == "backing_off" and life.next_start_at == 1.0 and life.last_exit_code is None


runs = st.lists(st.tuples(st.floats(min_value=0.0, max_value=200.0), st.integers(-9, 255)), min_size=1,
                max_size=40)


@given(runs)
def test_whatever_happens_a_next_start_is_always_set_within_the_ceiling(history):
    """Never given up: after any sequence of runs and exits, the child waits at most 30 s."""
    life, now = Life(), 0.0
    for ran_for, code in history:
        life = started(life, 1, now)
        now += ran_for
        life = exited(life, code, now, POLICY)
        assert life.state in ("backing_off", "crash_looping")
        assert life.next_start_at is not None
        assert 1 <= round(life.next_start_at - now, 6) <= 30
        now = life.next_start_at
    assert life.restarts == len(history) - 1


@example([(0.0, 0), (60.0, 0)])  # a run of exactly the healthy time
@example([(0.1, 0), (0.1, 0), (60.0, 0)])
@given(runs)
def test_quick_exits_never_shorten_the_wait_and_a_healthy_run_brings_it_back_to_one_second(history):
    life, now, last_wait = Life(), 0.0, 0.0
    for ran_for, code in history:
        life = started(life, 1, now)
        began, now = now, now + ran_for
        life = exited(life, code, now, POLICY)
        assert life.next_start_at is not None
        wait = round(life.next_start_at - now, 6)  # the clock's float arithmetic aside
        # How long it ran as the supervisor's clock says it (now - start), which in floats can be a hair
        # under ran_for: a run of exactly the healthy time must be judged on what the clock shows.
        if now - began >= POLICY.healthy_after_s:
            assert wait == 1
        else:
            assert wait >= last_wait
        last_wait, now = wait, life.next_start_at
