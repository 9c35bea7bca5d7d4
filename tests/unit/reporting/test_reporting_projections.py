"""The fold is a join: any order, any duplicates, any batching give the same state and the same digest."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from services.reporting.domain.digest import digest
from services.reporting.domain.documents import join
from services.reporting.domain.projection import apply, fold
from services.reporting.domain.report import build_report
from local.sample import sample_events

EVENTS = [event for _topic, event in sample_events(people=25, seed=3)]
REFERENCE = fold(EVENTS)


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False), st.lists(st.integers(0, len(EVENTS) - 1), max_size=60))
def test_order_and_duplicates_do_not_change_the_state(rnd: random.Random, dup_indexes: list[int]) -> None:
    # A replay reads topics in another interleaving than the live consumer, and redeliveries happen.
    events = EVENTS + [EVENTS[i] for i in dup_indexes]
    rnd.shuffle(events)
    assert fold(events) == REFERENCE


@settings(max_examples=20, deadline=None)
@given(st.integers(1, len(EVENTS)))
def test_folding_in_batches_equals_folding_at_once(cut: int) -> None:
    # The live service folds batch by batch into stored documents; the replay folds everything at once.
    first = fold(EVENTS[:cut])
    assert fold(EVENTS[cut:], first) == REFERENCE


def test_apply_leaves_the_old_state_untouched() -> None:
    before = fold(EVENTS[:10])
    snapshot = {k: dict(v) for k, v in before.items()}
    after = apply(before, EVENTS[10])
    assert before == snapshot
    assert after != before or EVENTS[10].type.endswith("day_started")


@given(st.dictionaries(st.sampled_from(["reg", "holder", "closed"]),
                       st.lists(st.text(max_size=3), min_size=2, max_size=2), min_size=1),
       st.dictionaries(st.sampled_from(["reg", "holder", "closed"]),
                       st.lists(st.text(max_size=3), min_size=2, max_size=2), min_size=1))
def test_join_is_commutative_and_idempotent(a: dict, b: dict) -> None:
    assert join(join(None, a), b) == join(join(None, b), a)
    ab = join(join(None, a), b)
    assert join(ab, a) == ab and join(ab, b) == ab


def test_digest_is_stable_across_shuffles() -> None:
    shuffled = EVENTS[:]
    random.Random(1).shuffle(shuffled)
    assert digest(build_report(fold(shuffled))) == digest(build_report(REFERENCE))
