"""Sending the year the way partners do: HTTP to intake with each structure's API key, or Kafka, each structure
on its own topic (ariane.inbound.v1.<structure id>) as its own principal.

Kept thin on purpose: a transport only moves bytes. Placeholders are swapped in by directory.Rewriter, which
waits (with a deadline) until Ariane has published what a partner would have been told. The clock ticks go on
ariane.clock.v1 whatever the transport: the simulator plays the territory's clock too.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
)
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import topics
from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.events import parse_event

from simulator.directory import Directory, Rewriter, Unresolved
from simulator.script import person_of_event_id


class DirectoryReader:
    """Reads ariane.intake.v1, ariane.referral.v1 and ariane.followup.v1 (committed records only) from the
    beginning and feeds the directory: what partners are told by notices and answers."""

    LEARNED = (topics.INTAKE, topics.REFERRAL, topics.FOLLOWUP)

    def __init__(self, bootstrap: str, prefix: str, directory: Directory, security: Mapping[str, Any] | None = None):
        self.bootstrap, self.prefix, self.directory = bootstrap, prefix, directory
        self.security = dict(security or {})
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                         isolation_level="read_committed", auto_offset_reset="earliest",
                                         **self.security)
        await self.consumer.start()
        parts = []
        for name in self.LEARNED:
            for p in self.consumer.partitions_for_topic(self.prefix + name) or await self._partitions(name):
                parts.append(TopicPartition(self.prefix + name, p))
        self.consumer.assign(parts)
        await self.consumer.seek_to_beginning(*parts)
        self.task = asyncio.create_task(self._run())

    async def _partitions(self, name: str) -> set[int]:
        assert self.consumer is not None
        await self.consumer._client.force_metadata_update()  # noqa: SLF001 - topics created before the start
        return self.consumer.partitions_for_topic(self.prefix + name) or set()

    async def _run(self) -> None:
        assert self.consumer is not None
        while True:
            batches = await self.consumer.getmany(timeout_ms=100, max_records=2000)
            for records in batches.values():
                for record in records:
                    try:
                        self.directory.learn(parse_event(record.value))
                    except Exception:  # noqa: BLE001 - a record we cannot read teaches us nothing
                        continue

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.consumer:
            await self.consumer.stop()


class Sender:
    """Base: rewrite placeholders (waiting for Ariane to publish them), then transmit; ticks over Kafka.

    ``security``: the aiokafka security arguments of its Kafka clients (``security_protocol``, ``sasl_mechanism``,
    ``sasl_plain_username``, ``sasl_plain_password``), given by the caller; none: PLAINTEXT."""

    def __init__(self, bootstrap: str, prefix: str = "", *, directory: Directory | None = None,
                 resolve_timeout_s: float = 60.0, learn_from_topics: bool = True, resolve: bool = True,
                 security: Mapping[str, Any] | None = None):
        self.bootstrap, self.prefix = bootstrap, prefix
        self.security = dict(security or {})
        self.directory = directory or Directory()
        self.rewriter = Rewriter(self.directory)
        self.resolve_timeout_s = resolve_timeout_s
        self.resolve = resolve  # False: send the events as generated, placeholders included (for tests)
        self.reader = (DirectoryReader(bootstrap, prefix, self.directory, self.security)
                       if learn_from_topics and resolve else None)
        self.producer: AIOKafkaProducer | None = None
        self.pending: list[asyncio.Future] = []
        self.sent = 0
        self.unresolved = 0
        self.unresolved_examples: list[str] = []  # the first reasons, to say what Ariane did not publish

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all",
                                         linger_ms=5, **self.security)
        await self.producer.start()
        if self.reader:
            await self.reader.start()

    async def stop(self) -> None:
        await self.flush()
        if self.reader:
            await self.reader.stop()
        if self.producer:
            await self.producer.stop()

    async def _prepared(self, event: Envelope) -> Envelope | None:
        if not self.resolve:
            return event
        deadline = time.monotonic() + self.resolve_timeout_s
        while True:
            try:
                return self.rewriter.prepare(event)
            except Unresolved as exc:
                if time.monotonic() > deadline:
                    self.unresolved += 1
                    if len(self.unresolved_examples) < 20:
                        self.unresolved_examples.append(f"{event.id} ({event.type}): {exc}")
                    return None
                await self.flush()  # what we already sent may be what Ariane has to publish first
                await asyncio.sleep(0.05)

    async def send_day(self, events: Sequence[Envelope]) -> None:
        for event in events:
            prepared = await self._prepared(event)
            if prepared is not None:
                await self.transmit(prepared)

    async def transmit(self, event: Envelope) -> None:
        raise NotImplementedError

    async def send_tick(self, tick: DayStarted) -> None:
        assert self.producer is not None
        self.pending.append(await self.producer.send(self.prefix + topics.CLOCK, tick.to_json_bytes(),
                                                     key=topics.key_for(tick.subject)))

    async def flush(self) -> None:
        pending, self.pending = self.pending, []
        if pending:
            await asyncio.gather(*pending)


class KafkaSender(Sender):
    """Partner events, each on its structure's own topic (ariane.inbound.v1.<structure id>), keyed by the subject
    as sent.

    ``partner_security(structure id)``: the security arguments of that structure's own principal
    (``partner-<structure id>``), the only one the broker lets write its topic: one producer per structure.
    Without it every structure's events go through the one producer of ``security`` (a broker's admin)."""

    def __init__(self, *args: Any, partner_security: Callable[[str], Mapping[str, Any]] | None = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.partner_security = partner_security
        self.partners: dict[str, AIOKafkaProducer] = {}

    async def _producer_of(self, structure: str) -> AIOKafkaProducer:
        if self.partner_security is None:
            assert self.producer is not None
            return self.producer
        if structure not in self.partners:
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all",
                                        linger_ms=5, **self.partner_security(structure))
            await producer.start()
            self.partners[structure] = producer
        return self.partners[structure]

    async def transmit(self, event: Envelope) -> None:
        producer = await self._producer_of(event.source)
        self.pending.append(await producer.send(self.prefix + topics.inbound_topic(event.source),
                                                event.to_json_bytes(), key=topics.key_for(event.subject)))
        self.sent += 1

    async def stop(self) -> None:
        await super().stop()
        for producer in self.partners.values():
            await producer.stop()


class HttpSender(Sender):
    """Partner events to intake's POST /v1/events, with the API key of the event's structure (Bearer).

    Events are batched per day while consecutive events come from the same structure, so each person's order
    is kept. Registrations teach the directory their person_id from intake's answer."""

    def __init__(self, base_url: str, api_keys: Mapping[str, str], bootstrap: str, prefix: str = "", *,
                 batch_max: int = 200, retries: int = 20, client: httpx.AsyncClient | None = None,
                 **kwargs: object):
        super().__init__(bootstrap, prefix, **kwargs)  # type: ignore[arg-type]
        self.base_url, self.api_keys = base_url.rstrip("/"), dict(api_keys)
        self.batch_max, self.retries = batch_max, retries
        self.client = client  # given: used as is and left open (e.g. a test's client on the app)
        self.own_client = client is None
        self.batch: list[Envelope] = []
        self.rejected: list[dict] = []

    async def start(self) -> None:
        await super().start()
        if self.client is None:
            self.client = httpx.AsyncClient(base_url=self.base_url, timeout=60.0)

    async def stop(self) -> None:
        await self.post_batch()
        await super().stop()
        if self.client and self.own_client:
            await self.client.aclose()

    async def send_day(self, events: Sequence[Envelope]) -> None:
        """A day in rounds: round k holds each person's k-th event of the day, so every person's events stay in
        order while different people's, independent of each other, go together: one POST per structure per
        round, the POSTs of a round at the same time (a day costs about one request's latency, not one per
        change of structure)."""
        rounds: list[list[Envelope]] = []
        seen: dict[str, int] = {}
        for event in events:
            person = person_of_event_id(event.id)
            k = seen.get(person, 0)
            seen[person] = k + 1
            if k == len(rounds):
                rounds.append([])
            rounds[k].append(event)
        for round_events in rounds:
            by_source: dict[str, list[Envelope]] = {}
            for event in round_events:
                prepared = await self._prepared(event)
                if prepared is not None:
                    by_source.setdefault(prepared.source, []).append(prepared)
            await asyncio.gather(*(self.post_events(batch[i:i + self.batch_max])
                                   for batch in by_source.values() for i in range(0, len(batch), self.batch_max)))

    async def transmit(self, event: Envelope) -> None:
        if self.batch and (self.batch[0].source != event.source or len(self.batch) >= self.batch_max):
            await self.post_batch()
        self.batch.append(event)

    async def flush(self) -> None:
        await self.post_batch()
        await super().flush()

    async def post_batch(self) -> None:
        batch, self.batch = self.batch, []
        await self.post_events(batch)

    async def post_events(self, batch: list[Envelope]) -> None:
        if not batch:
            return
        assert self.client is not None
        source = batch[0].source
        key = self.api_keys.get(source)
        if key is None:
            raise RuntimeError(f"no API key for structure {source!r}")
        body = b"[" + b",".join(e.to_json_bytes() for e in batch) + b"]"
        headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
        # As a partner's client should: resend after a dropped connection (intake answers "duplicate" for the
        # events it already has) a bounded number of times, and after a 503 wait what Retry-After says.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(httpx.TransportError) | retry_if_result(_is_unavailable),
            stop=stop_after_attempt(self.retries), wait=_retry_after_or(0.2), reraise=True,
            retry_error_callback=lambda state: state.outcome.result()):
            with attempt:
                response = await self.client.post("/v1/events", content=body, headers=headers)
            if not attempt.retry_state.outcome.failed:
                attempt.retry_state.set_result(response)
        if response.status_code not in (202, 422):
            raise RuntimeError(f"intake answered {response.status_code}: {response.text[:300]}")
        for answer in response.json()["results"]:
            event = batch[answer["index"]]
            if answer["status"] == "rejected":
                self.rejected.append({"id": event.id, "reason": answer.get("reason"), "detail": answer.get("detail")})
            elif answer.get("person_id") and event.type.endswith("person.registered"):
                self.directory.person_by_event[event.id] = answer["person_id"]
        self.sent += len(batch)


def _is_unavailable(response: httpx.Response) -> bool:
    return response.status_code == 503


def _retry_after_or(default_s: float):  # noqa: ANN202
    """Wait what the last 503's Retry-After says (at most 5 s), or `default_s` after a transport error."""

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            return min(float(outcome.result().headers.get("retry-after", "1")), 5.0)
        return default_s

    return wait


def load_api_keys(path: str) -> dict[str, str]:
    """A JSON object {structure_id: api_key}."""
    with open(path, encoding="utf-8") as f:
        keys = json.load(f)
    if not isinstance(keys, dict):
        raise ValueError(f"{path}: expected a JSON object of structure id -> API key")
    return {str(k): str(v) for k, v in keys.items()}
