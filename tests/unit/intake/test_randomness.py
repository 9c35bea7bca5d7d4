"""Intake's buffered OS randomness (nonces, data keys, delivery ids): every take is fresh bytes of the length
asked, across the buffer's refills, and a pool told to forget (as a forked child's is) never hands out what it
held before."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.intake.store.randomness import RandomPool


@given(st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=300))
def test_each_take_is_as_long_as_asked_and_never_repeats_an_earlier_one(sizes: list[int]) -> None:
    pool = RandomPool(chunk=256)  # small: many refills, and takes that straddle the buffer's end
    taken = [pool.take(n) for n in sizes]
    assert [len(t) for t in taken] == sizes
    long_ones = [t for t in taken if len(t) >= 12]  # 96 bits and more: a repeat would be the pool's, not chance
    assert len(set(long_ones)) == len(long_ones)


def test_a_pool_that_forgets_hands_out_new_bytes_not_the_rest_of_its_buffer() -> None:
    pool = RandomPool(chunk=4096)
    pool.take(16)
    rest_of_buffer = pool._buffer[pool._at:]  # noqa: SLF001 - what a child would have repeated before forgetting
    pool.forget()
    after = b"".join(pool.take(16) for _ in range(16))
    assert after not in rest_of_buffer and after[:16] not in rest_of_buffer
