"""Prometheus metrics of the referral service, counted in the shell from what each decision changed."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from contracts.envelope import Envelope
from contracts.referrals import ReferralExpired, ReferralIssued, ReferralReminderSent
from services.referral.domain.lifecycle import Origin, PersonState, Status

_DAYS = (1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60)


@dataclass(frozen=True)
class ReferralMetrics:
    transitions: Counter
    time_to_acknowledge: Histogram
    time_to_accept: Histogram
    reminders: Counter
    expiries: Counter
    reorientations: Counter
    late_acceptances: Counter
    waiting_answers: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> "ReferralMetrics":
        return cls(
            transitions=Counter("ariane_referral_transitions", "Referrals entering a status, by from/to structure.",
                                ["from_structure", "to_structure", "status"], registry=registry),
            time_to_acknowledge=Histogram("ariane_referral_time_to_acknowledge_days",
                                          "Days from issue to acknowledgement.", ["to_structure"], buckets=_DAYS,
                                          registry=registry),
            time_to_accept=Histogram("ariane_referral_time_to_accept_days", "Days from issue to acceptance.",
                                     ["to_structure"], buckets=_DAYS, registry=registry),
            reminders=Counter("ariane_referral_reminders", "Reminders sent, by structure and deadline.",
                              ["to_structure", "deadline"], registry=registry),
            expiries=Counter("ariane_referral_expiries", "Referrals expired unanswered (SLA breaches).",
                             ["to_structure"], registry=registry),
            reorientations=Counter("ariane_referral_reorientations",
                                   "Follow-ups of a failed referral: reorientation or escalation.",
                                   ["outcome"], registry=registry),
            late_acceptances=Counter("ariane_referral_late_acceptances", "Acceptances arriving after expiry.",
                                     ["to_structure"], registry=registry),
            waiting_answers=Counter("ariane_referral_waiting_answers",
                                    "Answers that came before their referral, by answer type and what became of "
                                    "them (parked, applied, misdirected, expired).", ["answer", "outcome"],
                                    registry=registry),
        )

    def observe(self, before: PersonState, after: PersonState, emitted: tuple[Envelope, ...]) -> None:
        for referral_id, r in after.referrals.items():
            old = before.referrals.get(referral_id)
            if old is not None and old.status == r.status:
                continue
            self.transitions.labels(r.from_structure, r.to_structure, r.status.value).inc()
            if r.acknowledged_on and (old is None or old.acknowledged_on is None):
                self.time_to_acknowledge.labels(r.to_structure).observe((r.acknowledged_on - r.issued_on).days)
            if r.accepted_on and (old is None or old.accepted_on is None):
                self.time_to_accept.labels(r.to_structure).observe((r.accepted_on - r.issued_on).days)
                if r.sla_breached and r.status in (Status.ACCEPTED, Status.CLOSED):
                    self.late_acceptances.labels(r.to_structure).inc()
            if old is None and r.origin in (Origin.REORIENTATION, Origin.ESCALATION):
                self.reorientations.labels(r.origin.value).inc()
        for event in emitted:
            if isinstance(event, ReferralReminderSent):
                self.reminders.labels(event.data.structure_id, event.data.deadline.value).inc()
            elif isinstance(event, ReferralExpired):
                self.expiries.labels(event.data.structure_id).inc()
            elif isinstance(event, ReferralIssued):
                pass  # counted as an "issued" transition above


_SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass(frozen=True)
class WebhookMetrics:
    deliveries: Counter
    attempts: Counter
    attempt_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> "WebhookMetrics":
        return cls(
            deliveries=Counter("ariane_referral_webhook_deliveries",
                               "Webhook notices finished, by receiving structure and outcome (delivered, failed).",
                               ["structure", "outcome"], registry=registry),
            attempts=Counter("ariane_referral_webhook_attempts",
                             "Webhook POSTs tried, by structure and verdict (delivered, retry, failed).",
                             ["structure", "verdict"], registry=registry),
            attempt_seconds=Histogram("ariane_referral_webhook_attempt_seconds",
                                      "Duration of one webhook POST, answered or not.", ["structure"],
                                      buckets=_SECONDS, registry=registry),
        )
