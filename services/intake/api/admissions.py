"""Requests' batches admitted together: one database transaction for every request waiting at that moment.

Each POST /v1/events used to open a write transaction of its own. On SQLite a writer holds the one write lock
from BEGIN IMMEDIATE to COMMIT, so under a paced load the requests queued for that lock one behind the other
(each waiting in the driver's busy handler, which sleeps between tries), and on both databases every request
paid its own BEGIN and COMMIT. Here one task takes the requests that arrived meanwhile, admits them in one
transaction, commits once, then answers them all. The group's lookups are read in one round first
(handlers.load_lookups), and the requests are admitted without a SAVEPOINT each; if one fails, the group is
rolled back and admitted again with a SAVEPOINT per request (as the consumer does with a batch): a request
stays all or nothing, a failing request fails alone, and a commit that fails fails every request of the group
(each then answers as before: run again after a write race, 503 when the store is busy). Verdicts are counted
in the metrics once committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Select, Table, or_, select

from contracts.envelope import Envelope
from services.intake.handlers import Verdict, admit, load_lookups, write_gathered
from services.intake.metrics import DeferredCounts
from services.intake.store import known
from services.runtime.service import ServiceContext
from services.runtime.turns import Turns
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:  # app.py builds IntakeDeps from this module's pieces: named for types only
    from services.intake.app import IntakeDeps
    from services.intake.metrics import IntakeMetrics

# Events admitted in one transaction at most: the write lock is held for the group's whole admission, and the
# consumer and the relay of this process wait behind it.
GROUP_EVENTS = 400


@dataclass
class Admitted:
    """What one request's admission gave: a verdict per event, and the outbox rows to wait for."""

    verdicts: list[Verdict] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    emitted_ids: list[str] = field(default_factory=list)  # the events accepted now, whose rows are looked up last


class _Isolate(Exception):
    """A request failed while its group was admitted without SAVEPOINTs: roll back, admit again isolated."""


@dataclass
class _Job:
    items: list[Any]
    done: asyncio.Future[Admitted]


class Admissions:
    def __init__(self, ctx: ServiceContext, deps: IntakeDeps) -> None:
        self.ctx, self.deps = ctx, deps
        self._waiting: list[_Job] = []
        self._worker: asyncio.Task[None] | None = None

    async def admit(self, items: list[Any]) -> Admitted:
        """Admit one request's events with those of the requests waiting now; raises what made them fail."""
        job = _Job(items, asyncio.get_running_loop().create_future())
        self._waiting.append(job)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="intake-admissions")
        return await asyncio.shield(job.done)

    async def _run(self) -> None:
        while self._waiting:
            group, size = [], 0
            while self._waiting and (not group or size + len(self._waiting[0].items) <= GROUP_EVENTS):
                job = self._waiting.pop(0)
                group.append(job)
                size += len(job.items)
            try:
                await self._admit_group(group)
            except BaseException as exc:  # noqa: BLE001 - handed to every request of the group, which answers it
                for job in group:
                    if not job.done.done():
                        job.done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise

    async def _admit_group(self, group: list[_Job]) -> None:
        try:
            results = await self._admit_in_transaction(group, isolated=False)
        except _Isolate:
            # A request failed where its writes could not be taken away alone: the whole group was rolled
            # back. Again, each request in its own SAVEPOINT, so that one fails alone.
            results = await self._admit_in_transaction(group, isolated=True)
        for job, outcome, counts in results:  # committed: every request learns its own outcome
            if isinstance(outcome, BaseException):
                job.done.set_exception(outcome)
            else:
                counts.into(self.deps.metrics)
                job.done.set_result(outcome)

    async def _admit_in_transaction(self, group: list[_Job], *, isolated: bool
                                    ) -> list[tuple[_Job, Admitted | BaseException, DeferredCounts]]:
        """The group in one transaction: without a SAVEPOINT per request first (two statements fewer each, and
        one flush less), raising _Isolate if a request fails; `isolated`, each request in its own."""
        ctx = self.ctx
        results: list[tuple[_Job, Admitted | BaseException, DeferredCounts]] = []
        async with ctx.session_factory() as session, session.begin():
            # Without SAVEPOINTs, the group's outbox rows go in one statement once every request is admitted;
            # isolated, each request's rows are written inside its SAVEPOINT, to go with it if it fails.
            uow = UnitOfWork(session=session, tables=ctx.tables, service=ctx.name,
                             topic_prefix=ctx.settings.topic_prefix, gather_outbox=not isolated)
            if not isolated:  # the grants and the ORM's rows wait for the group's end (store.known.batched)
                known.start_batch(session)
            await load_lookups([item for job in group for item in job.items], uow, self.deps)
            # The group's look-ups are read and its rows wait for its end, so admitting new people awaits
            # nothing: without a turn now and then, /health, /metrics and the relay would wait for the whole group
            # (up to GROUP_EVENTS events; intake's loop was held up to 1.1 s admitting registrations under load).
            turns = Turns()
            for job in group:
                # The verdicts are counted once the group is committed, and only for the requests it holds.
                counts = DeferredCounts()
                deps = replace(self.deps, metrics=cast("IntakeMetrics", counts))
                if not isolated:
                    try:
                        results.append((job, await self._admit_request(uow, deps, job.items, turns), counts))
                    except Exception as exc:
                        raise _Isolate from exc
                    continue
                try:
                    async with session.begin_nested():
                        results.append((job, await self._admit_request(uow, deps, job.items, turns), counts))
                except Exception as exc:  # noqa: BLE001 - this request alone fails; its savepoint is undone
                    results.append((job, exc, counts))
            if not isolated:
                try:
                    await write_gathered(uow)
                except Exception as exc:  # a request's row the store refused: found by admitting isolated
                    raise _Isolate from exc
            await uow.flush_outbox()  # a failure here fails the group, as its commit failing would
            await _with_outbox_ids(uow, [outcome for _job, outcome, _counts in results
                                         if isinstance(outcome, Admitted)])
        return results

    async def _admit_request(self, uow: UnitOfWork, deps: IntakeDeps, items: list[Any], turns: Turns) -> Admitted:
        admitted = Admitted()
        for item in items:
            await turns.maybe()
            before = len(uow.emitted)
            verdict = await admit(item, uow, deps, ingress="http")
            if verdict.status == "accepted":
                # Accepted now: its rows are those it just emitted, found by their exact ids once the whole
                # group is admitted (`_with_outbox_ids`).
                admitted.emitted_ids += [e.id for e in uow.emitted[before:]]
            elif verdict.published_id is not None:
                # First stored by an earlier attempt: answered once that attempt's rows are on Kafka.
                admitted.outbox_ids += await _outbox_ids_for(uow, verdict.published_id)
            admitted.verdicts.append(verdict)
        return admitted


async def _with_outbox_ids(uow: UnitOfWork, admitted: list[Admitted]) -> None:
    """The outbox rows of the events each request had accepted, for the whole group in one statement per
    chunk: rows of exactly these event ids (the event_id index: the lookup costs the group's own rows, not the
    outbox's size, which only grows)."""
    wanted = [event_id for one in admitted for event_id in one.emitted_ids]
    rows: dict[str, list[int]] = {}
    for i in range(0, len(wanted), _IDS_PER_STATEMENT):
        for row in await uow.session.execute(outbox_rows_of(uow.tables.outbox, wanted[i:i + _IDS_PER_STATEMENT])):
            rows.setdefault(row.event_id, []).append(row.id)
    for one in admitted:
        one.outbox_ids += [outbox_id for event_id in one.emitted_ids for outbox_id in rows.get(event_id, ())]


_IDS_PER_STATEMENT = 400


def outbox_rows_of(outbox: Table, event_ids: list[str]) -> Select:
    return select(outbox.c.id, outbox.c.event_id).where(outbox.c.event_id.in_(event_ids),
                                                          outbox.c.event_type != "deadletter")


async def _outbox_ids_for(uow: UnitOfWork, event_id: str) -> list[int]:
    """Outbox rows an earlier attempt produced for an event: its canonical copy and the merges it caused (ids
    derived from it). The prefix is not searched on an index on either database (SQLite's LIKE ignores case,
    PostgreSQL's default collation is not bytewise): a resend after a 503 is rare, the accepted path above is
    the one every event takes."""
    outbox = uow.tables.outbox
    rows = await uow.session.execute(
        select(outbox.c.id).where(
            or_(outbox.c.event_id == event_id, outbox.c.event_id.startswith(event_id + ":", autoescape=True)),
            outbox.c.event_type != "deadletter"))
    return [r.id for r in rows]
