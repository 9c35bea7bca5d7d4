"""Prometheus metrics common to every service, on the service's own registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

M = TypeVar("M", Counter, Gauge, Histogram)


@dataclass(frozen=True)
class RuntimeMetrics:
    registry: CollectorRegistry
    events_processed: Counter
    events_duplicate: Counter
    events_dead_lettered: Counter
    handler_retries: Counter
    handler_seconds: Histogram
    batch_seconds: Histogram
    outbox_published: Counter
    outbox_pending: Gauge
    consumer_lag: Gauge
    errors: Counter
    loop_lag: Histogram
    gc_pause: Histogram
    runtime_info: Gauge

    @classmethod
    def create(cls, service: str, registry: CollectorRegistry | None = None) -> "RuntimeMetrics":
        registry = registry or CollectorRegistry()
        labels = {"service": service}
        return cls(
            registry=registry,
            events_processed=Counter(
                "ariane_events_processed_total", "Events applied by a handler", ["service", "topic", "type"],
                registry=registry),
            events_duplicate=Counter(
                "ariane_events_duplicate_total", "Events skipped because the inbox had seen their id",
                ["service", "topic"], registry=registry),
            events_dead_lettered=Counter(
                "ariane_events_dead_lettered_total", "Events sent to the dead-letter topic", ["service", "topic", "reason"],
                registry=registry),
            handler_retries=Counter(
                "ariane_handler_retries_total", "Transient failures retried with back-off", ["service"],
                registry=registry),
            handler_seconds=Histogram(
                "ariane_handler_seconds", "Time to decide one event", ["service"], registry=registry,
                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)),
            batch_seconds=Histogram(
                "ariane_consumer_batch_seconds", "Time to handle and commit one consumed batch", ["service"],
                registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)),
            outbox_published=Counter(
                "ariane_outbox_published_total", "Outbox events published to Kafka", ["service", "topic"],
                registry=registry),
            outbox_pending=Gauge("ariane_outbox_pending", "Outbox events not yet published", ["service"],
                                 registry=registry),
            consumer_lag=Gauge(
                "ariane_consumer_lag", "Records behind the partition end", ["service", "topic", "partition"],
                registry=registry),
            errors=Counter("ariane_errors_total", "Errors by kind", ["service", "kind"], registry=registry),
            loop_lag=Histogram(
                "ariane_event_loop_lag_seconds", "How late a timer on the event loop fired: the wait of anything "
                "else for its turn (services/runtime/loop_watch.py)", ["service"], registry=registry,
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)),
            gc_pause=Histogram(
                "ariane_gc_pause_seconds", "One pass of the garbage collector, which holds the event loop",
                ["service", "generation"], registry=registry,
                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)),
            runtime_info=Gauge(
                "ariane_runtime_info", "1, labelled with the event loop and the HTTP parser the service runs on",
                ["service", "event_loop", "http_parser"], registry=registry),
        )._with_service(labels)

    def _with_service(self, labels: dict[str, str]) -> "RuntimeMetrics":
        # Touch the unlabelled-by-topic series so that dashboards see zeros rather than nothing.
        self.handler_retries.labels(**labels)
        self.outbox_pending.labels(**labels).set(0)
        return self


class Children(Generic[M]):
    """One labelled metric's children, each looked up once per label values and kept.

    `metric.labels(...)` validates and builds the label tuple and takes the metric's lock on every call: once per
    consumed record, that is a measurable part of applying it. The child found is the very one `labels` returns
    (the metric keeps it until removed, which the runtime never does), so what is counted does not change. The
    label values come from closed sets, as every label's must, so the mapping stays as small as the metric."""

    __slots__ = ("_metric", "_children")

    def __init__(self, metric: M) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child
