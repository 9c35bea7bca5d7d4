"""Followup's business metrics, on the service's registry; labels carry states, reasons and structures only."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class FollowupMetrics:
    persons: Gauge
    transitions: Counter
    lost: Counter
    reengaged: Counter
    lost_days: Histogram
    checkins_due: Counter
    checkins_overdue: Gauge
    ledger_violations: Counter
    reviews_pending: Gauge
    answers_dropped: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> FollowupMetrics:
        return cls(
            persons=Gauge("ariane_followup_persons", "Persons per parcours state", ["state"], registry=registry),
            transitions=Counter("ariane_followup_transitions_total", "State changes", ["from_state", "to_state"],
                                registry=registry),
            lost=Counter("ariane_followup_lost_total", "person.lost emitted", ["reason", "structure"],
                         registry=registry),
            reengaged=Counter("ariane_followup_reengaged_total", "person.reengaged emitted",
                              ["reason", "structure"], registry=registry),
            lost_days=Histogram("ariane_followup_lost_days", "Days spent lost before re-engagement",
                                registry=registry, buckets=(1, 7, 14, 30, 60, 90, 180, 365)),
            checkins_due=Counter("ariane_followup_checkins_due_total", "followup.checkin_due emitted",
                                 registry=registry),
            checkins_overdue=Gauge("ariane_followup_checkins_overdue", "Check-ins past their grace days, not done",
                                   registry=registry),
            ledger_violations=Counter("ariane_followup_ledger_violations_total",
                                      "Times the conservation check failed", registry=registry),
            reviews_pending=Gauge("ariane_followup_identity_reviews_pending",
                                  "Identity reviews awaiting the coordinator (their alerts wait)", registry=registry),
            answers_dropped=Counter("ariane_followup_answers_dropped_total",
                                    "Answers to a fact followup never received, dropped after their wait and "
                                    "reported to their sender on the dead-letter topic",
                                    ["reason"], registry=registry),
        )
