"""Topic names and keys: one writer per topic, every topic keyed by person_id."""

from __future__ import annotations

INBOUND = "ariane.inbound.v1"  # raw partner events over Kafka; only intake reads it
INTAKE = "ariane.intake.v1"  # every partner event once validated and pseudonymised
REFERRAL = "ariane.referral.v1"  # what the referral service decides
FOLLOWUP = "ariane.followup.v1"  # what the followup service decides
CLOCK = "ariane.clock.v1"  # one fr.ariane.clock.day_started tick per day
DEADLETTER = "ariane.deadletter.v1"  # poison messages, with reason and original bytes

ALL_TOPICS: tuple[str, ...] = (INBOUND, INTAKE, REFERRAL, FOLLOWUP, CLOCK, DEADLETTER)

# The clock is a single, totally ordered sequence of days: one partition.
SINGLE_PARTITION_TOPICS: frozenset[str] = frozenset({CLOCK})

# Who writes each topic and who reads it (the system's pipes, as a table).
WRITERS: dict[str, str] = {
    INBOUND: "partners",
    INTAKE: "intake",
    REFERRAL: "referral",
    FOLLOWUP: "followup",
    CLOCK: "clock",
    DEADLETTER: "any service",
}
READERS: dict[str, tuple[str, ...]] = {
    INBOUND: ("intake",),
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
