"""One database transaction per consumed batch: state changes, inbox marks and outbox rows commit together."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import Envelope
from contracts.topics import DEADLETTER
from services.runtime.deadletter import DeadLetter
from services.runtime.tables import RuntimeTables


_BATCH_POSITIONS = "runtime.batch_positions"  # in `memo`: each event of the batch by identity, its position


@dataclass
class UnitOfWork:
    """What a handler may touch: its session for state, `emit` for events, nothing else."""

    session: AsyncSession
    tables: RuntimeTables
    service: str
    topic_prefix: str = ""
    emitted: list[Envelope] = field(default_factory=list)
    # What this transaction knows of the inbox: ids recorded, and ids known to be absent. A batch's ids are
    # looked up in one query (prefetch_processed) instead of one query per event.
    _recorded: set[str] = field(default_factory=set)
    _absent: set[str] = field(default_factory=set)
    # Ids whose inbox row this transaction wrote ahead of applying them (claim), outside any SAVEPOINT: the
    # row stays when an event's SAVEPOINT rolls back, and is what marks it processed once applied or
    # dead-lettered.
    _claimed: set[str] = field(default_factory=set)
    # What a handler chose to read once for the whole transaction rather than once per event (followup's
    # date of today), by name. Emptied whenever a SAVEPOINT rolls back (forget), since a value read or
    # written inside it may have gone with it.
    memo: dict[str, Any] = field(default_factory=dict)
    # The parsed events of the consumed batch this transaction applies (empty outside a consumer): a handler
    # may read at once what they will all need (followup: the people they are about) instead of event by event.
    batch: tuple[Envelope, ...] = ()
    # True once this transaction holds the outbox's ordering lock (PostgreSQL) at its outer level, where no
    # SAVEPOINT rollback can release it: later events of the transaction need not ask for it again.
    _outbox_ordered: bool = False
    # What to do once this transaction has committed, and only then (counting into the metrics): a batch rolled
    # back and applied again, or a record whose SAVEPOINT rolled back, must not count what did not happen.
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Outbox rows gathered rather than inserted one by one: a consumed batch applied in one go sends its rows in
    # one statement (flush_outbox) before it commits. Off by default: whoever turns it on flushes before commit.
    gather_outbox: bool = False
    _gathered: list[dict[str, Any]] = field(default_factory=list)

    def on_commit(self, action: Callable[[], None]) -> None:
        self.after_commit.append(action)

    def last_to_handle(self, event: Envelope, handled: Container[type]) -> bool:
        """True unless a later event of the consumed batch will come to a handler of `handled` (one of a type it
        handles, another id, not already recorded: after the processor's claim, the inbox answers from memory).
        A service that gathers its writes for a batch's end writes them after this event. Always True outside a
        consumed batch, or inside a SAVEPOINT (a batch applied again isolated): each event writes its own."""
        positions = self.memo.get(_BATCH_POSITIONS)
        if positions is None:
            positions = self.memo[_BATCH_POSITIONS] = {id(e): n for n, e in enumerate(self.batch)}
        at = positions.get(id(event))
        if at is None or self.session.in_nested_transaction():
            return True
        return not any(type(e) in handled and e.id != event.id and self.is_claimed(e.id)
                       for e in self.batch[at + 1:])

    async def prefetch_processed(self, event_ids: Iterable[str]) -> None:
        wanted = {i for i in event_ids if i not in self._recorded and i not in self._absent}
        if not wanted:
            return
        inbox = self.tables.inbox
        rows = await self.session.exec(select(inbox.c.event_id).where(inbox.c.event_id.in_(sorted(wanted))))
        found = {r[0] for r in rows}
        self._recorded |= found
        self._absent |= wanted - found

    async def claim(self, marks: Sequence[tuple[str, str, int, int]]) -> None:
        """Write the inbox rows of a batch's events (event id, topic, partition, offset) in one statement, before
        any is applied, instead of one statement per event. An id already in the inbox, or being written by
        another transaction (two instances during a rebalance: this one waits for the other's outcome), is
        not written: it is known as recorded, so its event is a duplicate and its handler never runs."""
        wanted: dict[str, tuple[str, str, int, int]] = {}
        for mark in marks:
            if mark[0] not in self._recorded and mark[0] not in self._claimed:
                wanted.setdefault(mark[0], mark)
        if not wanted:
            return
        inbox = self.tables.inbox
        upsert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        # One statement compiled once and sent over the rows (the driver's "insertmanyvalues"): a VALUES list
        # built in Python was compiled anew for every batch, bind parameter by bind parameter.
        statement = (upsert(inbox).on_conflict_do_nothing(index_elements=[inbox.c.event_id])
                     .returning(inbox.c.event_id))
        rows = [{"event_id": i, "topic": t, "partition": p, "offset": o}
                for i, t, p, o in sorted(wanted.values())]  # in id order: claimers never deadlock
        written = {r[0] for r in await self.session.execute(statement, rows)}
        self._claimed |= written
        self._recorded |= wanted.keys() - written
        self._absent -= wanted.keys()

    def is_claimed(self, event_id: str) -> bool:
        """True if this transaction wrote the event's inbox row ahead (claim) and has not applied it yet."""
        return event_id in self._claimed and event_id not in self._recorded

    async def already_processed(self, event_id: str) -> bool:
        if event_id in self._recorded:
            return True
        if event_id in self._absent or event_id in self._claimed:
            return False
        row = await self.session.exec(
            select(self.tables.inbox.c.event_id).where(self.tables.inbox.c.event_id == event_id)
        )
        return row.first() is not None

    async def mark_processed(self, event_id: str, topic: str, partition: int, offset: int) -> None:
        if event_id in self._claimed and event_id not in self._recorded:
            self._recorded.add(event_id)  # its row was written by claim(): nothing more to write
            return
        await self.session.exec(
            insert(self.tables.inbox).values(event_id=event_id, topic=topic, partition=partition, offset=offset)
        )
        self._recorded.add(event_id)
        self._absent.discard(event_id)

    def forget(self, event_id: str) -> None:
        """A rolled-back SAVEPOINT took this id's inbox row away (unless claim() wrote it, before the SAVEPOINT):
        ask the database next time (and for anything the memo held, which the rollback may have undone too)."""
        self._recorded.discard(event_id)
        self._absent.discard(event_id)
        self.memo.clear()

    async def _outbox_in_commit_order(self) -> None:
        """Make outbox ids become visible in id order (PostgreSQL).

        The relay publishes rows in id order and keeps "everything below this id is on Kafka" as its mark.
        That holds only if no row with a lower id can commit after a higher one, which concurrent transactions
        on PostgreSQL would allow. A transaction-scoped advisory lock per service, taken before the id is
        allocated and held until commit, serialises outbox writers. SQLite already writes one at a time.

        Held until commit, the lock is asked for once per transaction (a consumed batch emits many events), but
        each time inside a SAVEPOINT: rolling the SAVEPOINT back releases a lock taken within it."""
        if self._outbox_ordered or self.session.get_bind().dialect.name != "postgresql":
            return
        await self.session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_lock_key(self.service)))
        self._outbox_ordered = not self.session.in_nested_transaction()

    async def emit(self, event: Envelope, topic: str) -> None:
        """Queue an event for publication on a topic of contracts.topics; sent once this transaction commits."""
        await self._outbox_row({
            "topic": self.topic_prefix + topic, "key": event.subject, "event_id": event.id,
            "event_type": event.type, "payload": event.to_json_bytes(),
            "headers": json.dumps({"ariane-service": self.service, "ce_type": event.type})})
        self.emitted.append(event)

    async def dead_letter(self, letter: DeadLetter) -> None:
        """Queue a poison record for the dead-letter topic, atomically with the inbox mark that skips it."""
        await self._outbox_row({
            "topic": self.topic_prefix + DEADLETTER, "key": letter.kept_key or f"{letter.topic}:{letter.partition}",
            "event_id": letter.letter_id, "event_type": "deadletter", "payload": letter.to_json_bytes(),
            "headers": json.dumps({"ariane-service": self.service, "reason": letter.reason[:200]})})

    async def _outbox_row(self, row: dict[str, Any]) -> None:
        if self.gather_outbox:
            if self.session.in_nested_transaction():
                # A SAVEPOINT could roll back rows it did not write, or keep rows it did: never mixed.
                raise RuntimeError("outbox rows are gathered for this transaction: no SAVEPOINT may emit")
            self._gathered.append(row)
            return
        await self._outbox_in_commit_order()
        await self.session.exec(insert(self.tables.outbox).values(**row))

    async def flush_outbox(self) -> None:
        """Send the gathered outbox rows in one statement, in the order they were emitted (their ids follow it)."""
        if not self._gathered:
            return
        rows, self._gathered = self._gathered, []
        await self._outbox_in_commit_order()
        await self.session.execute(insert(self.tables.outbox), rows)


def _lock_key(service: str) -> int:
    return zlib.crc32(f"ariane-outbox-{service}".encode())
