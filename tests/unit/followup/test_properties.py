"""Hypothesis properties of the followup core: order independence, conservation, and who is lost."""

from __future__ import annotations

from datetime import timedelta

from builders import START, entered, exited, job_ended, job_started, registered, tick
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.territory import FollowupThresholds
from services.followup.domain import PersonFile, Rules, State, decide, ledger_balanced, ledger_move, status_of
from services.followup.domain.facts import fact_of

# No check-ins and a long no-contact window: property (c) is about holders stopping, nothing else.
RULES = Rules(FollowupThresholds(checkin_months=(), no_contact_days=10_000, close_after_inactive_days=10_000),
              coordinator="aldev_cite_emploi")
OPERATORS = {"iae_regie": "siae_regie_quartiers", "plie_parcours": "plie_angers"}
PERSONS = ("p1", "p2", "p3")
HORIZON = 120


@st.composite
def stints(draw, pid):
    """A person's history: a few stints in a dispositif or a job, each with a start and maybe an end."""
    events = [registered(pid, 0)]
    truth = []  # (start minute, end minute or None, holder, reason when it ends)
    for n in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, HORIZON - 1))
        length = draw(st.one_of(st.none(), st.integers(0, 60)))
        minute = draw(st.sampled_from((600, 601)))  # same-minute ties between stints happen on purpose
        end = None if length is None or start + length > HORIZON else start + length
        if draw(st.booleans()):
            disp = draw(st.sampled_from(sorted(OPERATORS)))
            op = OPERATORS[disp]
            events.append(entered(pid, start, disp, op, minute, eid=f"{pid}-s{n}-in"))
            if end is not None:
                events.append(exited(pid, end, disp, op, minute, eid=f"{pid}-s{n}-out"))
            truth.append((start * 1440 + minute, None if end is None else end * 1440 + minute, op,
                          "exit_without_next_step", disp + str(n)))
        else:
            job, holder = f"j{n}", draw(st.sampled_from(("mission_emploi_trelaze", None)))
            events.append(job_started(pid, start, job, holder, minute=minute, eid=f"{pid}-s{n}-start"))
            if end is not None:
                events.append(job_ended(pid, end, job, minute=minute, eid=f"{pid}-s{n}-end"))
            truth.append((start * 1440 + minute, None if end is None else end * 1440 + minute, holder,
                          "job_ended_unheld", job))
    # A dispositif id can be re-entered only after its stint ends: keep one stint per dispositif id.
    seen, kept_events, kept_truth = set(), [events[0]], []
    for t in truth:
        key = "".join(c for c in t[4] if not c.isdigit()) if not t[4].startswith("j") else t[4]
        if key in seen:
            continue
        seen.add(key)
        kept_truth.append(t)
        kept_events += [e for e in events[1:] if e.id.startswith(f"{pid}-s{t[4][-1]}-")]
    return kept_events, kept_truth


histories = st.tuples(*(stints(pid) for pid in PERSONS))


def final_file(pid, events):
    f = PersonFile(pid)
    for e in events:
        f = f.with_fact(fact_of(e))
    return f


@settings(max_examples=150, deadline=None)
@given(histories, st.randoms(use_true_random=False), st.integers(0, 3))
def test_a_state_is_the_same_under_any_arrival_order_and_duplication(hist, rnd, dups):
    day = START + timedelta(days=HORIZON)
    for pid, (events, _) in zip(PERSONS, hist):
        shuffled = events + [rnd.choice(events) for _ in range(dups)]
        rnd.shuffle(shuffled)
        # Ticks interleaved with the facts, as the broker may deliver them: the final state must not care.
        f = PersonFile(pid)
        for i, e in enumerate(shuffled):
            f = decide(f.with_fact(fact_of(e)), START + timedelta(days=i), e, RULES).file
        after = decide(f, day, tick(HORIZON), RULES)
        expected = status_of(final_file(pid, events), day, RULES)
        assert (after.status.state, after.status.reason, after.status.since, after.status.structure_to_act) == (
            expected.state, expected.reason, expected.since, expected.structure_to_act)


@settings(max_examples=100, deadline=None)
@given(histories, st.randoms(use_true_random=False))
def test_b_conservation_holds_after_every_event(hist, rnd):
    stream = [e for events, _ in hist for e in events]
    rnd.shuffle(stream)
    files, states, counts = {}, {}, {}
    for i, e in enumerate(stream + [tick(HORIZON)]):
        day = START + timedelta(days=min(i, HORIZON))
        targets = PERSONS if e.subject == "clock" else (e.subject,)
        for pid in targets:
            if e.subject != "clock":
                files[pid] = files.get(pid, PersonFile(pid)).with_fact(fact_of(e))
            if pid not in files:
                continue
            d = decide(files[pid], day, e, RULES)
            files[pid] = d.file
            counts = ledger_move(counts, states.get(pid), d.status.state.value)
            states[pid] = d.status.state.value
        assert ledger_balanced(counts, known=len(files), merged=0)
        assert {k: v for k, v in counts.items() if v} == {
            s: sum(1 for x in states.values() if x == s) for s in set(states.values())}


@settings(max_examples=300, deadline=None)
@given(histories, st.integers(0, HORIZON + 40))
def test_c_lost_iff_the_last_holder_stopped_and_nobody_picked_up_in_time(hist, today_n):
    today = START + timedelta(days=today_n)
    end_of_today = (today_n + 1) * 1440
    for pid, (events, truth) in zip(PERSONS, hist):
        status = status_of(final_file(pid, events), today, RULES)
        # Oracle, by intervals: the person is held while some stint has started and not yet ended.
        seen = [(s, e, h, r) for s, e, h, r, _ in truth if s < end_of_today]
        open_now = [t for t in seen if t[1] is None or t[1] >= end_of_today]
        if seen and not open_now:
            last_end = max(t[1] for t in seen)
            last = max((t for t in seen if t[1] == last_end), key=lambda t: t[3])  # tie: either reason fits
            gap_day = START + timedelta(days=last_end // 1440)
            expect_lost = today >= gap_day + timedelta(days=RULES.thresholds.lost_after_days)
            assert (status.state == State.LOST) == expect_lost, (truth, today, status)
            if expect_lost:
                assert status.since == gap_day
                assert status.reason in {t[3] for t in seen if t[1] == last_end}
        else:
            assert status.state != State.LOST, (truth, today, status)
