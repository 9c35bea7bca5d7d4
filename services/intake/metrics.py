"""Intake's business metrics, on the service's registry: bounded labels only (never a person)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from contracts.envelope import Envelope
from contracts.events import EVENT_TYPES
from contracts.people import PersonIdentitiesMerged


OUTCOMES = frozenset({"accepted", "duplicate", "conflict", "rejected"})
INGRESS = frozenset({"http", "kafka"})
LABELLED_TYPES = frozenset(EVENT_TYPES) | {"unknown"}
# Why an event was refused: the stable codes of answers and dead letters.
REASONS = frozenset({"", "invalid_event", "not_a_partner_event", "implausible_event", "personal_data",
                     "unknown_structure", "forbidden_structure", "unknown_person", "person_erased",
                     "identity_missing", "identity_incomplete", "id_conflict", "unparseable", "forbidden_source"})


@dataclass(frozen=True)
class IntakeMetrics:
    events: Counter
    request_seconds: Histogram
    vault_size: Gauge
    merges: Counter
    reviews: Counter
    reviews_decided: Counter
    disclosures: Counter
    in_flight: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IntakeMetrics:
        return cls(
            events=Counter("ariane_intake_events_total", "Partner events by outcome (accepted, duplicate, "
                           "rejected), ingress, source structure, type and refusal reason",
                           ["outcome", "ingress", "source", "type", "reason"], registry=registry),
            request_seconds=Histogram("ariane_intake_request_seconds", "POST /v1/events latency, until the "
                                      "accepted events are on Kafka", ["status"], registry=registry,
                                      buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)),
            vault_size=Gauge("ariane_intake_vault_people", "People in the identity vault (merged and erased "
                             "excluded)", registry=registry),
            merges=Counter("ariane_intake_identities_merged_total", "Person ids folded into another", ["rule"],
                           registry=registry),
            reviews=Counter("ariane_intake_near_duplicates_flagged_total", "Pairs of people flagged for review",
                            registry=registry),
            reviews_decided=Counter("ariane_intake_identity_reviews_decided_total", "Identity reviews the "
                                    "coordinator decided, by decision", ["decision"], registry=registry),
            disclosures=Counter("ariane_intake_identity_disclosures_total", "Identities shown (each one an "
                                "identity.disclosed event), by basis", ["basis"], registry=registry),
            in_flight=Gauge("ariane_intake_events_in_flight", "Partner events being handled over HTTP now, against "
                            "the admission limit (ARIANE_INTAKE_MAX_EVENTS_IN_FLIGHT)", registry=registry),
        )

    def count(self, outcome: str, ingress: str, source: str, event_type: str, reason: str = "") -> None:
        """Every label from a closed set: callers pass validated values; anything else is counted as unknown."""
        self.events.labels(outcome if outcome in OUTCOMES else "unknown", ingress if ingress in INGRESS else "unknown",
                           source[:64], event_type if event_type in LABELLED_TYPES else "unknown",
                           reason if reason in REASONS else "other").inc()

    def count_merges(self, emitted: Sequence[Envelope], flagged_for_review: int) -> None:
        """The merges an accepted event caused (by rule) and the pairs it flagged for review."""
        for merge in emitted:
            if isinstance(merge, PersonIdentitiesMerged):
                self.merges.labels(merge.data.rule).inc()
        if flagged_for_review:
            self.reviews.inc(flagged_for_review)


class DeferredCounts:
    """An admission's verdicts and merges, counted into intake's metrics once its transaction has committed: a
    group or a consumed batch admitted again after a failure, or a request that fails, is not counted twice or
    for nothing. Stands in for IntakeMetrics where the admission counts (`count`, `count_merges`)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def count(self, *args: Any) -> None:
        self.calls.append(("count", args))

    def count_merges(self, emitted: Sequence[Envelope], flagged_for_review: int) -> None:
        self.calls.append(("count_merges", (list(emitted), flagged_for_review)))

    def into(self, metrics: IntakeMetrics) -> None:
        for name, args in self.calls:
            getattr(metrics, name)(*args)
