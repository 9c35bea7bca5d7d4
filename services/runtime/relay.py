"""Publish the outbox to Kafka exactly once.

Each batch of outbox rows is sent inside one Kafka transaction, and the same transaction commits, as the
offset of a private consumer group (`ariane-relay-<service>`), the id just past the last row sent. That
offset is the relay's high-water mark, written atomically with the messages themselves. After a crash, rows
below the mark are known to be on Kafka even if the database never heard so, and are marked published
without being sent again; rows above it are sent again, and since their earlier transaction never committed,
read_committed consumers never saw them. The transactional id fences a zombie relay of the same service.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timezone

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from contracts.topics import DEADLETTER
from services.runtime.backoff import Backoff
from services.runtime.errors import is_transient
from services.runtime.kafka_security import client_security
from services.runtime.leadership import Lease
from services.runtime.metrics import RuntimeMetrics
from services.runtime.settings import RuntimeSettings
from services.runtime.tables import RuntimeTables
from services.runtime.turns import Turns

log = structlog.get_logger("ariane.relay")

def set_aside_letter(service: str, outbox_id: int, topic: str, size: int, limit: int) -> bytes:
    """The dead letter published instead of an outbox row too large for the broker. The original is not kept
    (it is what did not fit); it stays in the service's outbox table, where an operator can inspect it."""
    return json.dumps({
        "letter_id": f"aside:{service}:{outbox_id}", "service": service,
        "reason": f"record_too_large: {size} bytes, above the {limit}-byte limit of one Kafka record",
        "errors": [], "source": {"topic": topic, "outbox_id": outbox_id},
    }, sort_keys=True).encode()


# How often a request waiting for its rows reads the outbox again. The leader learns of its own publications in
# memory, so its reading is only a safety net; a standby learns of the leader's only by reading.
WAIT_POLL_S = 2.0
STANDBY_POLL_S = 0.25
# Rows sent but not yet marked, in batches of relay_batch_max, past which the relay waits for the marking.
UNMARKED_MAX_BATCHES = 4
_IDS_PER_MARKING = 500  # ids in one UPDATE's IN list (SQLite's and asyncpg's parameter limits)


class _Waiter:
    """One wait_published call: the rows it still waits for, and the future resolved when none is left."""

    def __init__(self, left: set[int], done: asyncio.Future[None]) -> None:
        self.left = left
        self.done = done

    def published(self, outbox_id: int) -> None:
        self.left.discard(outbox_id)
        self._settle()

    def keep_only(self, unpublished: set[int]) -> None:
        """What the outbox says is still unpublished (a row marked by another instance, or before the wait)."""
        self.left &= unpublished
        self._settle()

    def _settle(self) -> None:
        if not self.left and not self.done.done():
            self.done.set_result(None)


def relay_group(service: str, prefix: str = "") -> str:
    return f"{prefix}ariane-relay-{service}"


class OutboxRelay:
    def __init__(self, *, service: str, session_factory: async_sessionmaker, tables: RuntimeTables,
                 bootstrap: str, metrics: RuntimeMetrics, settings: RuntimeSettings,
                 read_session_factory: async_sessionmaker | None = None, lease: Lease | None = None) -> None:
        self.service = service
        self.session_factory = session_factory
        # Looking for rows to send never waits behind a writer for the write lock (SQLite).
        self.read_session_factory = read_session_factory or session_factory
        self.outbox = tables.outbox
        self.bootstrap = bootstrap
        self.metrics = metrics
        self.settings = settings
        self.wakeup = asyncio.Event()
        # Where the high-water mark is kept: a partition that always exists, under a group of the relay's own.
        self.marker = TopicPartition(settings.topic(DEADLETTER), 0)
        self.group = relay_group(service, settings.topic_prefix)
        self.producer: AIOKafkaProducer | None = None
        # The requests waiting for rows to be on Kafka (wait_published), by outbox id: resolved from the ids this
        # instance marks published, without reading the outbox again.
        self._waiting: dict[int, set[_Waiter]] = {}
        # Rows on Kafka whose marking in the store has not committed yet: a request that starts waiting for them
        # in between is answered at once (the store would still say unpublished), and the next rounds do not send
        # them again. They are marked by a task of their own (`_mark_sent`), so that the next round's sending
        # never waits behind the store's write lock (on SQLite held by an admission group or a consumed batch).
        self._on_kafka_unmarked: set[int] = set()
        self._marking: asyncio.Task[None] | None = None
        self._needs_reconcile = False
        # How many times the outbox may have changed (rows committed, rows published): tells a reading of its
        # pending count taken before (services/runtime/health.py) that it may be out of date.
        self.changes = 0
        # Several instances of a service share one outbox: only the lease holder publishes it (see leadership).
        self.lease = lease
        self._failures = 0

    def notify(self) -> None:
        """Called after a handler's transaction commits: there may be rows to send."""
        self.changes += 1
        self.wakeup.set()

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            **client_security(self.bootstrap, self.service, self.settings),
            client_id=self.group,
            transactional_id=self.group,
            enable_idempotence=True,
            linger_ms=0,  # a batch is already gathered from the outbox: waiting for more only adds latency
            request_timeout_ms=15000,  # a broker outage surfaces as an error in bounded time, then run() recovers
        )
        await self.producer.start()  # also fences any earlier producer with the same transactional id
        await self._reconcile()

    async def stop(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            try:
                # Bounded: with the broker down, flushing could wait forever; unsent rows stay in the outbox.
                await asyncio.wait_for(producer.stop(), timeout=10)
            except (asyncio.TimeoutError, KafkaError, OSError) as exc:
                log.warning("relay_stop_incomplete", error=f"{type(exc).__name__}: {exc}"[:300])

    async def committed_mark(self) -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=self.group,
                                    enable_auto_commit=False,
                                    **client_security(self.bootstrap, self.service, self.settings))
        await consumer.start()
        try:
            return await consumer.committed(self.marker) or 0
        finally:
            await consumer.stop()

    async def _reconcile(self) -> None:
        mark = await self.committed_mark()
        async with self.session_factory() as session, session.begin():
            highest = (await session.exec(select(func.max(self.outbox.c.id)))).scalar_one() or 0
            if mark > highest + 1:
                # The mark is ahead of every row this database has ever held: it was restored from a backup
                # (or replaced). Rows below the mark may never have been sent from *this* history, so none is
                # taken as sent: at worst some are sent twice, and every consumer's inbox drops the copies.
                oldest_unsent = (await session.exec(select(func.min(self.outbox.c.id)).where(
                    self.outbox.c.published_at.is_(None)))).scalar_one()
                log.warning("relay_mark_ahead_of_outbox", mark=mark, highest_outbox_id=highest,
                            detail="database restored or replaced: unpublished rows will all be sent")
                self.metrics.errors.labels(self.service, "relay_mark_ahead_of_outbox").inc()
                await self._set_mark(oldest_unsent or highest + 1)
                return
            result = await session.exec(
                update(self.outbox)
                .where(self.outbox.c.id < mark, self.outbox.c.published_at.is_(None))
                .values(published_at=datetime.now(timezone.utc))
            )
        if result.rowcount:
            log.info("relay_reconciled", already_on_kafka=result.rowcount, mark=mark)
        self._on_kafka_unmarked = {outbox_id for outbox_id in self._on_kafka_unmarked if outbox_id >= mark}
        # Every row below the mark is on Kafka now, whoever sent it.
        self._rows_published([outbox_id for outbox_id in self._waiting if outbox_id < mark])

    async def _set_mark(self, mark: int) -> None:
        """Move the mark back to what this outbox really holds, so that rows written from now on, whose ids
        the old mark covers, are never taken as sent by a later reconciliation."""
        assert self.producer is not None
        async with self.producer.transaction():
            await self.producer.send_offsets_to_transaction({self.marker: OffsetAndMetadata(mark, "")}, self.group)

    async def publish_pending(self) -> int:
        """Send one batch of unpublished rows; returns how many were sent. Their marking in the store follows in
        the background (`marked` waits for it)."""
        assert self.producer is not None, "start() the relay first"
        self._raise_if_marking_broke()
        if len(self._on_kafka_unmarked) >= UNMARKED_MAX_BATCHES * self.settings.relay_batch_max:
            await self.marked()  # the store far behind Kafka: let it catch up before sending more
        # Taken before the read: a marking that commits while the outbox is read takes its ids out of the set,
        # and the read, from a snapshot older than that commit, may still see those rows as unpublished.
        on_kafka = set(self._on_kafka_unmarked)
        skipped = len(on_kafka)
        async with self.read_session_factory() as session:
            rows = (await session.exec(
                select(self.outbox.c.id, self.outbox.c.topic, self.outbox.c.key, self.outbox.c.payload,
                       self.outbox.c.headers)
                .where(self.outbox.c.published_at.is_(None))
                .order_by(self.outbox.c.id)
                .limit(self.settings.relay_batch_max + skipped)
            )).all()
        # Rows sent by an earlier round whose marking has not committed yet are already on Kafka.
        rows = [row for row in rows if row.id not in on_kafka][:self.settings.relay_batch_max]
        if not rows:
            return 0
        last_id = rows[-1].id
        async with self.producer.transaction():
            futures = []
            # send() only queues the record (it waits only when the producer's buffer is full): 500 of them would
            # hold the event loop in one stretch. The order of the sends is kept.
            turns = Turns()
            for row in rows:
                topic, key, payload, headers = self._sendable(row)
                futures.append(await self.producer.send(topic, payload, key=key, headers=headers))
                await turns.maybe()
            await asyncio.gather(*futures)
            await self.producer.send_offsets_to_transaction(
                {self.marker: OffsetAndMetadata(last_id + 1, "")}, self.group
            )
        # Committed on Kafka: the requests waiting for these rows are answered now, not after the marking below,
        # which waits for the store's write lock (on SQLite held by an admission group or a consumed batch for up
        # to a second under load). Were the marking to fail, the rows are on Kafka all the same, and the mark
        # committed with them tells the next relay where to resume (`_reconcile`).
        sent = [row.id for row in rows]
        self._on_kafka_unmarked.update(sent)
        self._rows_published(sent)
        for row in rows:
            self.metrics.outbox_published.labels(self.service, row.topic).inc()
        self.changes += 1
        self._start_marking()
        return len(rows)

    def _start_marking(self) -> None:
        """A marking task, unless one is under way (it takes the rows sent meanwhile in its next transaction)."""
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_sent(), name=f"{self.service}-relay-marking")

    async def _mark_sent(self) -> None:
        """Mark published the rows on Kafka and not marked yet, those of every round sent meanwhile in one
        transaction. A failure leaves them in memory (not sent again) and in the store as unpublished; the next
        round's marking tries again, and a restart's reconciliation marks them from the mark on Kafka."""
        while self._on_kafka_unmarked:
            sent = sorted(self._on_kafka_unmarked)
            async with self.session_factory() as session, session.begin():
                for i in range(0, len(sent), _IDS_PER_MARKING):
                    # Exactly the rows sent: a row with a lower id that committed meanwhile has not been sent.
                    await session.exec(
                        update(self.outbox)
                        .where(self.outbox.c.id.in_(sent[i:i + _IDS_PER_MARKING]),
                               self.outbox.c.published_at.is_(None))
                        .values(published_at=datetime.now(timezone.utc))
                    )
            self._on_kafka_unmarked.difference_update(sent)
            self.changes += 1

    def _raise_if_marking_broke(self) -> None:
        """The last marking's failure: raised here, in the relay's own loop, which retries a store that is busy
        or away and crashes on anything else, as it did when the marking was part of the round."""
        marking = self._marking
        if marking is None or not marking.done():
            return
        self._marking = None
        if not marking.cancelled() and marking.exception() is not None:
            raise marking.exception()  # type: ignore[misc]

    async def marked(self) -> None:
        """Wait until every row this relay sent is marked published in the store (raises what the marking met)."""
        while self._on_kafka_unmarked:
            self._raise_if_marking_broke()
            self._start_marking()
            assert self._marking is not None
            await asyncio.shield(self._marking)
        self._raise_if_marking_broke()

    def _sendable(self, row) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:  # noqa: ANN001
        """What to send for one outbox row: the row itself, or, when the broker could never take it, a small
        dead letter in its place, so that one oversized record cannot hold back every row behind it."""
        headers = [(k, str(v).encode()) for k, v in json.loads(row.headers or "{}").items()]
        headers.append(("ariane-outbox-id", str(row.id).encode()))
        key = row.key.encode()
        size = len(row.payload) + len(key) + sum(len(k) + len(v) for k, v in headers)
        if size <= self.settings.max_record_bytes:
            return row.topic, key, row.payload, headers
        self.metrics.errors.labels(self.service, "outbox_record_set_aside").inc()
        log.error("outbox_record_set_aside", outbox_id=row.id, topic=row.topic, size=size,
                  limit=self.settings.max_record_bytes)
        letter = set_aside_letter(self.service, row.id, row.topic, size, self.settings.max_record_bytes)
        return (self.settings.topic(DEADLETTER), f"{self.service}:outbox:{row.id}".encode(), letter,
                [("ariane-service", self.service.encode()), ("reason", b"record_too_large"),
                 ("ariane-outbox-id", str(row.id).encode())])

    def _rows_published(self, outbox_ids: Sequence[int]) -> None:
        """These rows are on Kafka (their transaction committed): the requests waiting for them learn it at once."""
        for outbox_id in outbox_ids:
            for waiter in self._waiting.pop(outbox_id, ()):
                waiter.published(outbox_id)

    async def _unpublished(self, outbox_ids: Sequence[int]) -> set[int]:
        async with self.read_session_factory() as session:
            return set((await session.exec(
                select(self.outbox.c.id)
                .where(self.outbox.c.id.in_(list(outbox_ids)), self.outbox.c.published_at.is_(None))
            )).scalars().all())

    async def wait_published(self, outbox_ids: Sequence[int], timeout: float) -> bool:
        """Wait until every given outbox row is on Kafka; False if `timeout` passes first.

        For callers that must not answer before their events are durable on the broker (an HTTP ingress). The
        rows are read once on entry (some may be on Kafka already: published_at set, or only just sent by this
        instance and not marked yet); from then on, the rows this instance publishes resolve the wait in memory as
        soon as their Kafka transaction commits. The outbox is read again only every `WAIT_POLL_S` (every
        `STANDBY_POLL_S` on a standby instance, where another instance publishes and nothing is marked here)."""
        if not outbox_ids:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Listening before reading: a row marked published while the outbox is read is not missed.
        ids = set(outbox_ids)
        waiter = _Waiter(set(ids), loop.create_future())
        for outbox_id in ids:
            self._waiting.setdefault(outbox_id, set()).add(waiter)
        self.notify()
        try:
            waiter.keep_only(ids - self._on_kafka_unmarked)  # on Kafka already, their marking not committed yet
            if waiter.done.done():
                return True
            while True:
                waiter.keep_only(await self._unpublished(list(waiter.left)))
                if waiter.done.done():
                    return True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                poll = WAIT_POLL_S if self.role == "leader" else STANDBY_POLL_S
                try:
                    await asyncio.wait_for(asyncio.shield(waiter.done), timeout=min(remaining, poll))
                    return True
                except asyncio.TimeoutError:
                    pass
        finally:
            for outbox_id in ids:
                waiters = self._waiting.get(outbox_id)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiting[outbox_id]

    @property
    def role(self) -> str:
        return "leader" if self.lease is None or self.lease.held else "standby"

    @property
    def healthy(self) -> bool:
        """Connected to the broker and its last round did not fail; a standby instance is healthy by definition
        (it publishes nothing until it leads)."""
        if self.role == "standby":
            return True
        return self.producer is not None and self._failures == 0

    async def _lead(self, stop: asyncio.Event) -> bool:
        """Make sure this instance holds the lease before a round of publishing; stand by until it does.
        False when asked to stop while standing by."""
        if self.lease is None or await self.lease.still_held():
            return True
        await self.stop()  # no producer while another instance leads: it would only be fenced
        if not await self.lease.acquire(stop):
            return False
        self._needs_reconcile = True  # the previous leader's last rounds: the mark on Kafka says what is there
        return True

    async def pending_count(self) -> int:
        async with self.read_session_factory() as session:
            return (await session.exec(
                select(func.count()).select_from(self.outbox).where(self.outbox.c.published_at.is_(None))
            )).scalar_one()

    async def _recover(self, exc: BaseException, attempt: int, stop: asyncio.Event) -> None:
        """The broker is unreachable or the transaction failed: nothing committed on Kafka past the mark, the rows
        stay unpublished in the outbox. Back off, then start a fresh producer (which reconciles with the mark)."""
        self.metrics.errors.labels(self.service, "relay_publish_failed").inc()
        delay = Backoff(self.settings.retry_base_delay_s, self.settings.retry_max_delay_s).delay(attempt)
        log.warning("relay_publish_failed", error=f"{type(exc).__name__}: {exc}"[:300], retry_in_s=delay)
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except asyncio.TimeoutError:
            pass
        try:
            await asyncio.wait_for(self.stop(), timeout=5)
        except Exception:  # noqa: BLE001 - a producer that cannot even stop cleanly is dropped anyway
            self.producer = None
        try:
            await asyncio.wait_for(self.start(), timeout=30)
        except Exception as restart_exc:  # noqa: BLE001 - still down: the next round tries again
            self.producer = None
            log.warning("relay_restart_failed", error=f"{type(restart_exc).__name__}: {restart_exc}"[:300])

    async def _wait_database(self, exc: BaseException, attempt: int, stop: asyncio.Event) -> None:
        self.metrics.errors.labels(self.service, "relay_database_unavailable").inc()
        delay = Backoff(self.settings.retry_base_delay_s, self.settings.retry_max_delay_s).delay(attempt)
        log.warning("relay_database_unavailable", error=f"{type(exc).__name__}: {exc}"[:300], retry_in_s=delay)
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except asyncio.TimeoutError:
            pass

    async def run(self, stop: asyncio.Event) -> None:
        self._failures = 0
        while not stop.is_set():
            # Cleared before looking for rows, never after: a commit that notifies while we publish must not be
            # forgotten until the idle timeout.
            self.wakeup.clear()
            if not await self._lead(stop):
                break
            try:
                if self.producer is None:
                    await self.start()
                elif self._needs_reconcile:
                    # A database failure may have come between a Kafka commit and the rows' marking: the
                    # mark on Kafka says which rows are already there, so none is sent twice.
                    await self._reconcile()
                self._needs_reconcile = False
                sent = await asyncio.wait_for(self.publish_pending(), timeout=20)
                if not sent:
                    self.metrics.outbox_pending.labels(self.service).set(await self.pending_count())
                self._failures = 0
            except (KafkaError, OSError, asyncio.TimeoutError) as exc:
                self._failures += 1
                await self._recover(exc, self._failures, stop)
                continue
            except Exception as exc:
                if not is_transient(exc):
                    raise
                # The database is restarting or busy: the rows are safe in it, wait and read them again.
                self._failures += 1
                self._needs_reconcile = True
                await self._wait_database(exc, self._failures, stop)
                continue
            if sent:
                continue
            try:
                await asyncio.wait_for(self.wakeup.wait(), timeout=self.settings.relay_idle_s * 20)
            except asyncio.TimeoutError:
                pass
        # Drain what is committed before leaving, so a graceful stop leaves nothing behind (if the broker lets us:
        # otherwise the rows wait in the outbox for the next start).
        try:
            while self.producer is not None and self.role == "leader" and await self.publish_pending():
                pass
        except (KafkaError, OSError, asyncio.TimeoutError) as exc:
            log.warning("relay_drain_failed", error=f"{type(exc).__name__}: {exc}"[:300])
        try:
            await self.marked()
        except Exception as exc:  # noqa: BLE001 - on Kafka all the same: the next start reconciles from the mark
            log.warning("relay_marking_incomplete", error=f"{type(exc).__name__}: {exc}"[:300])
