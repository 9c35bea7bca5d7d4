"""Apply consumed records through a handler, effectively once.

One database transaction per batch holds the handler's state changes, the inbox marks (written for the
whole batch in one statement, before any handler runs) and the outbox rows. The batch is first applied in one
go, without a SAVEPOINT per record; if a record's handler fails, the transaction is rolled back whole and the
batch applied again with each record inside its own SAVEPOINT, so the poison record is rolled back alone and
dead-lettered while its neighbours commit (the outcome is the same as if every batch were isolated, at the
price of applying a poisoned batch twice). Transient failures retry the batch with back-off, then record by
record, and a record that still fails alone is dead-lettered with the reason: bounded, so a partition never
stalls.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from structlog.contextvars import bind_contextvars, reset_contextvars

from contracts.envelope import Envelope
from services.runtime.apply import Where, apply_once
from services.runtime.backoff import Backoff
from services.runtime.deadletter import DeadLetter
from services.runtime.errors import worth_retrying
from services.runtime.metrics import Children, RuntimeMetrics
from services.runtime.records import Record
from services.runtime.settings import RuntimeSettings
from services.runtime.tables import RuntimeTables
from services.runtime.turns import Turns
from services.runtime.unit_of_work import UnitOfWork

Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]
Parser = Callable[[bytes], Envelope]

log = structlog.get_logger("ariane.processor")


def _is_wrapped_transient(exc: BaseException) -> bool:
    return isinstance(exc, _Transient)


class _Isolate(Exception):
    """A handler failed while the batch was applied without SAVEPOINTs: roll back, apply it again isolated."""


class _Transient(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


@functools.cache
def _parse_event() -> Parser:
    # Imported when first needed, then kept: an import statement per record is a look-up in the import machinery.
    from contracts.events import parse_event

    return parse_event


def default_parser(raw: bytes) -> Envelope:
    return _parse_event()(raw)


def _contract_errors(exc: BaseException) -> tuple[dict, ...]:
    as_dicts = getattr(exc, "as_dicts", None)  # contracts.ContractError: field-level errors, values never echoed
    errors = as_dicts() if callable(as_dicts) else None
    return tuple(dict(e) if isinstance(e, dict) else {"msg": str(e)} for e in (errors or ()))


@dataclass
class _Outcome:
    processed: Tally = field(default_factory=Tally)
    duplicates: Tally = field(default_factory=Tally)
    dead: Tally = field(default_factory=Tally)


@dataclass
class EventProcessor:
    service: str
    session_factory: async_sessionmaker
    tables: RuntimeTables
    handle: Handler
    metrics: RuntimeMetrics
    settings: RuntimeSettings
    parse: Parser = default_parser
    # A topic (named without the run's prefix) whose records another parser reads: a service that consumes
    # partners' raw records and other services' events tells them apart by where they come from, never by
    # what a record says about itself.
    parsers: Mapping[str, Parser] = field(default_factory=dict)
    on_committed: Callable[[], None] = lambda: None
    # Optional: what of a poison record's bytes the dead-letter topic may keep (e.g. intake strips identities).
    redact: Callable[[bytes], bytes] | None = None
    # Per-record bookkeeping looked up once: the parser of each topic, and the metrics' labelled children.
    _parser_of: dict[str, Parser] = field(default_factory=dict, init=False, repr=False)
    _handler_seconds: Histogram = field(init=False, repr=False)
    _batch_seconds: Histogram = field(init=False, repr=False)
    _processed: Children[Counter] = field(init=False, repr=False)
    _duplicates: Children[Counter] = field(init=False, repr=False)
    _dead_lettered: Children[Counter] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._handler_seconds = self.metrics.handler_seconds.labels(self.service)
        self._batch_seconds = self.metrics.batch_seconds.labels(self.service)
        self._processed = Children(self.metrics.events_processed)
        self._duplicates = Children(self.metrics.events_duplicate)
        self._dead_lettered = Children(self.metrics.events_dead_lettered)

    @property
    def _backoff(self) -> Backoff:
        return Backoff(self.settings.retry_base_delay_s, self.settings.retry_max_delay_s,
                       self.settings.handler_max_attempts)

    def _on_retry(self, batch: int):  # noqa: ANN202
        def note(attempt: int, exc: BaseException, delay: float) -> None:
            self.metrics.handler_retries.labels(self.service).inc()
            log.warning("transient_failure", attempt=attempt, retry_in_s=delay, batch=batch, error=str(exc))
        return note

    async def process_batch(self, records: Sequence[Record]) -> None:
        started = time.perf_counter()
        while True:
            try:
                await self._backoff.call(lambda: self._apply(records), retry_on=_is_wrapped_transient,
                                         on_retry=self._on_retry(len(records)))
                break
            except _Transient:
                if await self._wait_while_database_down():
                    continue  # the database was the problem, not the batch: apply it again, whole
                # The batch keeps failing with the database up: isolate the record that does, so the others
                # are not held hostage.
                for record in records:
                    await self._process_alone(record)
                break
        self._batch_seconds.observe(time.perf_counter() - started)

    async def _process_alone(self, record: Record) -> None:
        while True:
            try:
                await self._backoff.call(lambda: self._apply([record]), retry_on=_is_wrapped_transient,
                                         on_retry=self._on_retry(1))
                return
            except _Transient as last:
                if await self._wait_while_database_down():
                    continue
                reason = f"transient failure persisted after {self.settings.handler_max_attempts} attempts: {last}"
            try:
                await self._apply([record], forced_reason=reason)
                return
            except _Transient:
                # Even the dead letter could not be written: the database went away meanwhile. Wait, try again.
                await self._wait_while_database_down()

    async def _database_up(self) -> bool:
        try:
            async with asyncio.timeout(5):
                async with self.session_factory() as session:
                    await session.exec(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure here means "not reachable now"
            return False

    async def _wait_while_database_down(self) -> bool:
        """True if the database was down (and is back now): a restart or an outage is waited out, for as long
        as it lasts, and never turns a good event into a dead letter. False if it was up all along."""
        if await self._database_up():
            return False
        self.metrics.errors.labels(self.service, "database_unavailable").inc()
        attempt = 0
        while not await self._database_up():
            attempt += 1
            delay = Backoff(self.settings.retry_base_delay_s, self.settings.retry_max_delay_s).delay(attempt)
            log.warning("database_unavailable", retry_in_s=delay, attempt=attempt)
            await asyncio.sleep(delay)
        log.info("database_back", after_attempts=attempt)
        return True

    async def _apply(self, records: Sequence[Record], forced_reason: str | None = None) -> None:
        outcome = _Outcome()
        try:
            try:
                await self._apply_in_transaction(records, forced_reason, outcome, isolated=False)
            except _Isolate:
                # The failing record's writes could not be taken away alone: everything went with the
                # rollback. Again, each record in its own SAVEPOINT, to dead-letter that one only.
                self.metrics.errors.labels(self.service, "batch_applied_again_isolated").inc()
                log.info("batch_applied_again_isolated", batch=len(records))
                outcome = _Outcome()
                await self._apply_in_transaction(records, forced_reason, outcome, isolated=True)
        except _Transient:
            raise
        except Exception as exc:
            if worth_retrying(exc):  # begin, look-up or commit failed: not the event
                raise _Transient(exc) from exc
            raise
        self._count(outcome)
        self.on_committed()

    async def _apply_in_transaction(self, records: Sequence[Record], forced_reason: str | None,
                                    outcome: _Outcome, *, isolated: bool) -> None:
        async with self.session_factory() as session:
            # Applied in one go, the batch's outbox rows go in one statement at its end; isolated, each record's
            # rows are written inside its SAVEPOINT, to go with it if it rolls back.
            uow = UnitOfWork(session=session, tables=self.tables, service=self.service,
                             topic_prefix=self.settings.topic_prefix, gather_outbox=not isolated)
            await self._apply_and_commit(uow, records, forced_reason, outcome, isolated=isolated)
        for action in uow.after_commit:  # committed: what the handlers left to do once it was
            action()

    async def _apply_and_commit(self, uow: UnitOfWork, records: Sequence[Record], forced_reason: str | None,
                                outcome: _Outcome, *, isolated: bool) -> None:
        async with uow.session.begin():
            # Parsing 500 records is tens of ms of validation: not in one stretch either.
            turns = Turns()
            parsed: list[tuple[Record, Envelope | Exception]] = []
            events: list[Envelope] = []
            claims: list[tuple[str, str, int, int]] = []
            for record in records:
                event = self._parse(record)
                parsed.append((record, event))
                if isinstance(event, Envelope):
                    events.append(event)
                    claims.append((event.id, record.topic, record.partition, record.offset))
                await turns.maybe()
            uow.batch = tuple(events)
            # The batch's inbox rows in one statement rather than one per event; ids another transaction
            # recorded come back as duplicates.
            await uow.claim(claims)
            # A handler that gathers its writes for the batch's end never waits on the database meanwhile, so
            # nothing else of the process would run until the whole batch is folded (hundreds of ms for a batch
            # of 500): /health, /metrics and the relay get a turn.
            turns = Turns()
            for record, event in parsed:
                # Every line logged while the record is applied names where it lies and, once parsed, its event
                # and correlation id: bound in one call, and reset to what was bound before (the tokens) after.
                if isinstance(event, Exception):
                    bound = bind_contextvars(topic=record.topic, partition=record.partition, offset=record.offset)
                else:
                    bound = bind_contextvars(topic=record.topic, partition=record.partition, offset=record.offset,
                                             event_id=event.id, event_type=event.type,
                                             correlation_id=event.correlationid or event.id)
                try:
                    await self._apply_one(uow, record, event, outcome, forced_reason, isolated)
                finally:
                    reset_contextvars(**bound)
                await turns.maybe()
            try:
                await uow.flush_outbox()
            except Exception as exc:  # noqa: BLE001 - classified: the database's trouble, or apply it isolated
                if worth_retrying(exc):
                    raise _Transient(exc) from exc
                raise _Isolate from exc

    def _parse(self, record: Record) -> Envelope | Exception:
        parse = self._parser_of.get(record.topic)
        if parse is None:
            parse = self._parser_of[record.topic] = self.parsers.get(
                record.topic.removeprefix(self.settings.topic_prefix), self.parse)
        try:
            return parse(record.value)
        except Exception as exc:  # noqa: BLE001 - anything unparseable is poison by definition
            return exc

    async def _apply_one(self, uow: UnitOfWork, record: Record, event: Envelope | Exception, outcome: _Outcome,
                         forced_reason: str | None, isolated: bool) -> None:
        if isinstance(event, Exception):
            await self._dead_letter(uow, record, f"unparseable or invalid event: {event}"[:2000], outcome,
                                    errors=_contract_errors(event))
            return
        if forced_reason is not None:
            if await uow.already_processed(event.id):
                outcome.duplicates[record.topic] += 1
            else:
                await self._dead_letter(uow, record, forced_reason, outcome, event_id=event.id)
            return
        started = time.perf_counter()
        try:
            applied = await apply_once(uow, event, Where(record.topic, record.partition, record.offset),
                                       self.handle, isolated=isolated)
        except Exception as exc:  # noqa: BLE001 - classified just below
            if worth_retrying(exc):
                raise _Transient(exc) from exc
            if not isolated:
                raise _Isolate from exc
            log.error("handler_rejected_event", error=f"{type(exc).__name__}: {exc}")
            await self._dead_letter(uow, record, f"{type(exc).__name__}: {exc}"[:2000], outcome,
                                    event_id=event.id)
            return
        finally:
            self._handler_seconds.observe(time.perf_counter() - started)
        if applied.duplicate:
            outcome.duplicates[record.topic] += 1
        else:
            outcome.processed[(record.topic, event.type)] += 1

    async def _dead_letter(self, uow: UnitOfWork, record: Record, reason: str, outcome: _Outcome, *,
                           errors: tuple[dict, ...] = (), event_id: str | None = None) -> None:
        original = self.redact(record.value) if self.redact is not None else record.value
        # A service that redacts what it dead-letters (intake: partners' records) never keeps their record
        # key either: a partner may have keyed it by a name or a NIR. The letter is keyed by its origin.
        key = None if self.redact is not None else record.key_text
        letter = DeadLetter(self.service, reason, record.topic, record.partition, record.offset, key, original, errors)
        inbox_key = event_id or letter.letter_id
        if await uow.already_processed(inbox_key):
            outcome.duplicates[record.topic] += 1
            return
        await uow.dead_letter(letter)
        await uow.mark_processed(inbox_key, record.topic, record.partition, record.offset)
        outcome.dead[(record.topic, reason.split(":", 1)[0][:60])] += 1
        log.warning("dead_lettered", reason=reason[:300])

    def _count(self, outcome: _Outcome) -> None:
        for (topic, event_type), n in outcome.processed.items():
            self._processed(self.service, topic, event_type).inc(n)
        for topic, n in outcome.duplicates.items():
            self._duplicates(self.service, topic).inc(n)
        for (topic, reason), n in outcome.dead.items():
            self._dead_lettered(self.service, topic, reason).inc(n)
