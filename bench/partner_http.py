"""Partner events to intake's POST /v1/events as a partner's client sends them: a JSON array of one structure's
events, with that structure's key; after a 503, again when Retry-After says (bounded), as simulator/senders.py
does. Keeps every HTTP status and every per-event verdict, and when each accepted event was answered."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from bench.keepalive_http import Answer, KeepAliveClient, TransportError
from contracts.envelope import Envelope
from simulator.script import person_of_event_id

BATCH_MAX = 200  # events in one POST, as the simulator's HTTP sender
STREAMS_PER_STRUCTURE = 4  # a structure's backlog is sent as this many ordered streams, each of its own people
RETRIES = 20
RETRY_AFTER_MAX_S = 5.0


def _error_of(response: Answer) -> str:
    try:
        return str(response.json().get("error", "unknown"))
    except ValueError:
        return "not_json"


class PartnerPoster:
    def __init__(self, base_url: str, api_keys: Mapping[str, str], *, concurrency: int = 8):
        # Not httpx: its pool took most of the benchmark's 0.8 CPU ms per event, on the pipeline's cores
        # (bench/keepalive_http.py).
        self.client = KeepAliveClient(base_url, max_connections=max(64, concurrency), timeout_s=120.0)
        self.api_keys = dict(api_keys)
        self.slots = asyncio.Semaphore(concurrency)
        self.http_statuses: Counter[str] = Counter()  # every answer, retried 503s included
        self.verdicts: Counter[str] = Counter()  # per event, from the final answer
        self.reasons: Counter[str] = Counter()
        self.unavailable: Counter[str] = Counter()  # every 503 answer by its `error`, retried ones included
        self.answered_at: dict[str, float] = {}  # event id -> when the 202 taking it arrived (perf_counter)
        self.posted_at: dict[str, float] = {}  # event id -> when its first POST was sent

    async def close(self) -> None:
        await self.client.aclose()

    async def post(self, batch: Sequence[Envelope]) -> None:
        body = b"[" + b",".join(e.to_json_bytes() for e in batch) + b"]"
        headers = {"authorization": f"Bearer {self.api_keys[batch[0].source]}", "content-type": "application/json"}
        async with self.slots:
            posted = time.perf_counter()
            for attempt in range(RETRIES):
                try:
                    response = await self.client.post("/v1/events", content=body, headers=headers)
                except TransportError:
                    self.http_statuses["transport_error"] += 1
                    await asyncio.sleep(0.2)
                    continue
                answered = time.perf_counter()
                self.http_statuses[str(response.status_code)] += 1
                if response.status_code == 503:
                    # Which 503: `busy` (past the admission limit, or the store too busy) or `broker_unavailable`
                    # (stored, Kafka's confirmation late); and whether it said when to come back.
                    self.unavailable[_error_of(response)] += 1
                    if "retry-after" not in response.headers:
                        self.unavailable["without_retry_after"] += 1
                if response.status_code == 503 and attempt + 1 < RETRIES:
                    await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), RETRY_AFTER_MAX_S))
                    continue
                break
            else:
                self.verdicts["unsent"] += len(batch)
                return
        if response.status_code not in (202, 409, 422):
            self.verdicts[f"http_{response.status_code}"] += len(batch)
            return
        for answer in response.json()["results"]:
            self.verdicts[answer["status"]] += 1
            if answer.get("reason"):
                self.reasons[answer["reason"]] += 1
            if answer["status"] in ("accepted", "duplicate"):  # duplicate: on Kafka already, a resend's answer
                self.answered_at[batch[answer["index"]].id] = answered
                self.posted_at[batch[answer["index"]].id] = posted

    async def post_round(self, events: Sequence[Envelope], on_posted: Callable[[int], None] = lambda n: None) -> None:
        """Events independent of each other (a round): one POST per structure and up to BATCH_MAX events, at once."""
        by_source: dict[str, list[Envelope]] = {}
        for event in events:
            by_source.setdefault(event.source, []).append(event)

        async def one(batch: list[Envelope]) -> None:
            await self.post(batch)
            on_posted(len(batch))

        await asyncio.gather(*(one(batch[i:i + BATCH_MAX]) for batch in by_source.values()
                               for i in range(0, len(batch), BATCH_MAX)))


    async def post_backlog(self, events: Sequence[Envelope],
                           on_posted: Callable[[int], None] = lambda n: None) -> None:
        """A backlog, as a partner's system sends the events it holds (the issue's "partner batches of 10^5
        events at once"): each structure's events cut by person into STREAMS_PER_STRUCTURE streams, as a
        partner's integrator spreads its sending over its people (the way Kafka spreads records over partitions
        by key); each stream in its order, in POSTs of up to BATCH_MAX, one after the other (the next once the
        previous is answered, so intake takes a person's events in order); all the streams at once. Every
        person's events must come from one structure (raises otherwise): their order is then kept."""
        by_stream: dict[tuple[str, int], list[Envelope]] = {}
        source_of: dict[str, str] = {}
        for event in events:
            person = person_of_event_id(event.id)
            if source_of.setdefault(person, event.source) != event.source:
                raise ValueError(f"person {person}'s events come from two structures: their order would not hold")
            stream = zlib.crc32(person.encode()) % STREAMS_PER_STRUCTURE
            by_stream.setdefault((event.source, stream), []).append(event)

        async def one_stream(stream: list[Envelope]) -> None:
            for i in range(0, len(stream), BATCH_MAX):
                await self.post(stream[i:i + BATCH_MAX])
                on_posted(len(stream[i:i + BATCH_MAX]))

        await asyncio.gather(*(one_stream(stream) for stream in by_stream.values()))


class PacedPoster:
    """Events sent at a set rate, open loop: every `tick_s`, the events due by then go out (one POST per
    structure) without waiting for earlier answers, except that an event waits for the answer about its
    person's previous event (a partner does not send a person's next fact before the first is taken)."""

    def __init__(self, poster: PartnerPoster, rate: float, tick_s: float = 0.05):
        self.poster, self.rate, self.tick_s = poster, rate, tick_s
        self.in_flight: dict[str, asyncio.Task[None]] = {}  # person -> the POST carrying their latest event
        self.tasks: list[asyncio.Task[None]] = []
        self.sent = 0
        # event id -> when the schedule made it due (perf_counter): a POST waits for a free connection and for
        # its person's previous answer, so when intake cannot keep up the wait is before `posted_at`, not after.
        self.due_at: dict[str, float] = {}
        self.answered_after_s = 0.0  # from the first event due to the last answer

    async def _send(self, batch: list[Envelope], before: list[asyncio.Task[None]]) -> None:
        if before:
            await asyncio.gather(*before, return_exceptions=True)
        await self.poster.post(batch)

    def _dispatch(self, events: Sequence[Envelope]) -> None:
        by_source: dict[str, list[Envelope]] = {}
        for event in events:
            by_source.setdefault(event.source, []).append(event)
        now = time.perf_counter()
        self.due_at.update((event.id, now) for event in events)
        for batch in by_source.values():
            for i in range(0, len(batch), BATCH_MAX):
                chunk = batch[i:i + BATCH_MAX]
                people = {person_of_event_id(e.id) for e in chunk}
                before = [self.in_flight[p] for p in people if p in self.in_flight and not self.in_flight[p].done()]
                task = asyncio.create_task(self._send(chunk, before))
                self.tasks.append(task)
                for person in people:
                    self.in_flight[person] = task

    async def run(self, events: Sequence[Envelope], on_tick: Callable[[int], None] = lambda n: None) -> float:
        """Send every event on schedule; returns the seconds the schedule took (then waits for the answers)."""
        began = time.perf_counter()
        while self.sent < len(events):
            due = min(len(events), int(self.rate * (time.perf_counter() - began)) + 1)
            if due > self.sent:
                self._dispatch(events[self.sent:due])
                on_tick(due - self.sent)
                self.sent = due
            await asyncio.sleep(self.tick_s)
        scheduled = time.perf_counter() - began
        await asyncio.gather(*self.tasks)
        self.answered_after_s = time.perf_counter() - began
        return scheduled
