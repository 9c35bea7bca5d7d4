"""Topic names and keys: one writer per topic, every topic keyed by person_id.

Partners that speak Kafka each write their own topic, ``ariane.inbound.v1.<structure id>``: the broker lets
only that structure's principal write it, so the topic a record was read on says who sent it. The shared
``ariane.inbound.v1`` of earlier versions is gone: nobody may write it and intake does not read it.
"""

from __future__ import annotations

from collections.abc import Iterable

INBOUND = "ariane.inbound.v1"  # the family of the partners' topics (no longer a topic of its own)
INBOUND_PREFIX = INBOUND + "."  # a partner's topic: this prefix and its structure id; only intake reads them
INBOUND_CHANNEL = INBOUND_PREFIX + "{structure_id}"  # the family as contracts name it (AsyncAPI address)
INTAKE = "ariane.intake.v1"  # every partner event once validated and pseudonymised
REFERRAL = "ariane.referral.v1"  # what the referral service decides
FOLLOWUP = "ariane.followup.v1"  # what the followup service decides
CLOCK = "ariane.clock.v1"  # one fr.ariane.clock.day_started tick per day
DEADLETTER = "ariane.deadletter.v1"  # poison messages, with reason and original bytes

# Ariane's own topics, the same in every territory; the partners' are `inbound_topics(structure ids)`.
ALL_TOPICS: tuple[str, ...] = (INTAKE, REFERRAL, FOLLOWUP, CLOCK, DEADLETTER)
# Every channel of the contracts: the partners' family, then Ariane's own topics.
CHANNELS: tuple[str, ...] = (INBOUND_CHANNEL, *ALL_TOPICS)

# The clock is a single, totally ordered sequence of days: one partition.
SINGLE_PARTITION_TOPICS: frozenset[str] = frozenset({CLOCK})

# Who writes each topic and who reads it (the system's pipes, as a table).
WRITERS: dict[str, str] = {
    INBOUND_CHANNEL: "partners",  # each its own topic
    INTAKE: "intake",
    REFERRAL: "referral",
    FOLLOWUP: "followup",
    CLOCK: "clock",
    DEADLETTER: "any service",
}
READERS: dict[str, tuple[str, ...]] = {
    INBOUND_CHANNEL: ("intake",),
    INTAKE: ("referral", "followup", "reporting"),
    REFERRAL: ("intake", "followup", "reporting"),  # intake: who is asked to act on a person (identity access)
    FOLLOWUP: ("intake", "reporting"),
    CLOCK: ("intake", "referral", "followup", "reporting"),  # intake: erasure when the retention period is over
    DEADLETTER: ("operators",),
}

CLOCK_KEY = "clock"


def key_for(subject: str) -> bytes:
    """Kafka key of an event: its subject (the person_id), so a person's events stay in order."""
    return subject.encode("utf-8")


def inbound_topic(structure_id: str) -> str:
    """The topic a partner structure writes its events to (and the only one it may write)."""
    return INBOUND_PREFIX + structure_id


def inbound_topics(structure_ids: Iterable[str]) -> tuple[str, ...]:
    """The partners' topics of these structures, in their order."""
    return tuple(inbound_topic(s) for s in structure_ids)


def inbound_sender(topic: str) -> str | None:
    """The structure whose topic this is (a name without any run prefix), or None for any other topic."""
    sender = topic.removeprefix(INBOUND_PREFIX)
    return sender if topic.startswith(INBOUND_PREFIX) and sender else None
