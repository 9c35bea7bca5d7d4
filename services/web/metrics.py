"""The page's own Prometheus metrics (bounded labels only: page names and outcomes, never a person or key)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class WebMetrics:
    page_seconds: Histogram
    pages: Counter
    signins: Counter
    answers: Counter
    transfers: Counter
    decisions: Counter
    sessions: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> WebMetrics:
        return cls(
            page_seconds=Histogram("ariane_web_page_seconds", "Time to answer a page, calls to services included",
                                   ["page"], registry=registry,
                                   buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)),
            pages=Counter("ariane_web_pages_total", "Pages answered, by outcome", ["page", "outcome"],
                          registry=registry),
            signins=Counter("ariane_web_signins_total", "Sign-in attempts, by outcome", ["outcome"],
                            registry=registry),
            answers=Counter("ariane_web_checkin_answers_total", "Check-in answers sent, by outcome", ["outcome"],
                            registry=registry),
            transfers=Counter("ariane_web_transfers_total", "Transfer forms sent, by outcome", ["outcome"],
                              registry=registry),
            decisions=Counter("ariane_web_review_decisions_total", "Identity review decisions sent, by outcome",
                              ["outcome"], registry=registry),
            sessions=Gauge("ariane_web_sessions", "Sessions held in memory", registry=registry),
        )
