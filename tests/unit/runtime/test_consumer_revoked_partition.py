"""A rebalance can take a partition away between the consumer's `assignment()` and its `position()`: the chaos
run saw intake's second instance join and the first one's loop end on IllegalStateError. The commit must skip
the revoked partition and commit the others, and the lag gauge must skip it too.

The consumer here is a stand-in for the one moment no real broker can be made to produce on demand (the revocation
landing exactly between two awaits); everything else about commits is covered on the real broker."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from prometheus_client import CollectorRegistry

from services.runtime.consumer import _commit_positions, _update_lag
from services.runtime.metrics import RuntimeMetrics

KEPT, REVOKED = TopicPartition("ariane.intake.v1", 0), TopicPartition("ariane.intake.v1", 1)


class RevokedMeanwhile:
    """Lists two partitions as assigned, but the second is revoked by the time its position is asked."""

    def __init__(self) -> None:
        self.committed: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return {KEPT, REVOKED}

    async def position(self, tp: TopicPartition) -> int:
        if tp == REVOKED:
            raise IllegalStateError(f"Partition {tp} is not assigned")
        return 42

    def highwater(self, tp: TopicPartition) -> int:
        return 50

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.update(offsets)


async def test_a_partition_revoked_before_its_position_is_skipped_and_the_others_are_committed() -> None:
    consumer, committed = RevokedMeanwhile(), {}
    await _commit_positions(consumer, committed)  # type: ignore[arg-type]
    assert consumer.committed == {KEPT: 42}
    assert committed == {KEPT: 42}


async def test_the_lag_gauge_skips_a_revoked_partition() -> None:
    metrics = RuntimeMetrics.create("test-revoked", CollectorRegistry())
    await _update_lag(RevokedMeanwhile(), metrics, "test-revoked")  # type: ignore[arg-type]
    assert metrics.consumer_lag.labels("test-revoked", KEPT.topic, "0")._value.get() == 8
