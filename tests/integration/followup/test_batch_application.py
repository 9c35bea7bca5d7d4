"""Followup applies a consumed batch in one round of writes, and the worklists, caseloads and events it leaves are
those of the same events applied one by one; a record refused among good ones is dead-lettered alone; the day
tick checks the ledger's counters every day and recounts the people once a week.

Through followup's own handlers and the runtime's processor on a real store (SQLite, or PostgreSQL when
ARIANE_DATABASE_URL says so), batches fixed by the test: no broker, so that what a batch is does not depend on
the consumer's timing."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "followup"))
from builders import START, at, entered, exited, issued, registered, tick  # noqa: E402

from contracts import topics  # noqa: E402
from contracts.envelope import Envelope  # noqa: E402
from contracts.referrals import ReferralAcknowledged, ReferralAcknowledgedData  # noqa: E402
from services.followup.app import definition  # noqa: E402
from services.followup.store import ActionRow, HoldRow, LedgerRow, PersonRow, tables  # noqa: E402
from services.runtime.db import make_engine, make_session_factory  # noqa: E402
from services.runtime.deadletter import DeadLetter  # noqa: E402
from services.runtime.metrics import RuntimeMetrics  # noqa: E402
from services.runtime.migrate import upgrade_to_head  # noqa: E402
from services.runtime.processor import EventProcessor  # noqa: E402
from services.runtime.records import Record  # noqa: E402
from services.runtime.settings import RuntimeSettings  # noqa: E402
from services.runtime.unit_of_work import UnitOfWork  # noqa: E402

IAE, SIAE = "iae_regie", "siae_regie_quartiers"
Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]


class Followup:
    """Followup's apply path on one store, fed batch by batch; the SQL statements it sends, by verb and table."""

    def __init__(self, engine: AsyncEngine, processor: EventProcessor, registry: CollectorRegistry) -> None:
        self.engine, self.processor, self.registry = engine, processor, registry
        self.offset = 0
        self.statements: Counter[str] = Counter()  # of the last batch fed, by verb (and table for writes)
        self.sent: list[str] = []  # the last batch's statements

    async def feed(self, *events: Envelope) -> None:
        records = []
        for e in events:
            topic = topics.CLOCK if e.type.endswith("day_started") else topics.INTAKE
            records.append(Record(topic, 0, self.offset, e.subject.encode(), e.to_json_bytes()))
            self.offset += 1
        self.statements.clear()
        self.sent.clear()
        await self.processor.process_batch(records)

    async def rows(self, query) -> list[Any]:  # noqa: ANN001
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def held_by(self, structure: str) -> set[str]:
        return {r.person_id for r in await self.rows(select(HoldRow.person_id).where(HoldRow.structure_id == structure))}

    async def worklist(self) -> set[tuple]:
        return set(await self.rows(select(ActionRow.person_id, ActionRow.structure_id, ActionRow.kind,
                                          ActionRow.reason, ActionRow.since, ActionRow.urgency, ActionRow.answer_id,
                                          ActionRow.file_number)))

    async def holds(self) -> set[tuple]:
        return set(await self.rows(select(HoldRow.person_id, HoldRow.structure_id, HoldRow.counsellor,
                                          HoldRow.file_number)))

    async def told(self) -> list[tuple[str, str]]:
        outbox = tables.outbox
        rows = await self.rows(select(outbox.c.event_type, outbox.c.key).order_by(outbox.c.id))
        return [(r.event_type, r.key) for r in rows if r.event_type != "deadletter"]

    async def letters(self) -> list[dict]:
        outbox = tables.outbox
        rows = await self.rows(select(outbox.c.payload).where(outbox.c.event_type == "deadletter"))
        return [DeadLetter.parse(bytes(r.payload)) for r in rows]

    async def ledger(self) -> dict[str, int]:
        return dict(await self.rows(select(LedgerRow.name, LedgerRow.count)))

    def violations(self) -> float:
        return self.registry.get_sample_value("ariane_followup_ledger_violations_total") or 0.0


@pytest.fixture
async def followup(database_url_factory) -> AsyncIterator[Callable[..., Awaitable[Followup]]]:  # noqa: ANN001
    """Make a followup on a fresh store; `refuse` wraps its handler (a record to refuse after it ran)."""
    engines: list[AsyncEngine] = []

    async def make(name: str = "followup", refuse: Callable[[Handler], Handler] | None = None) -> Followup:
        service = definition()
        engine = make_engine(await database_url_factory(name))
        engines.append(engine)
        await upgrade_to_head(engine, "followup", service.metadata, service.versions_dir)
        factory = make_session_factory(engine)
        registry = CollectorRegistry()
        settings = RuntimeSettings()
        ctx = SimpleNamespace(registry=registry, session_factory=factory, engine=engine, name="followup",
                              settings=settings, read_session_factory=factory)
        wiring = await service.start(ctx)
        handler = refuse(wiring.handler) if refuse else wiring.handler
        processor = EventProcessor("followup", factory, service.tables, handler,
                                   RuntimeMetrics.create("followup", registry), settings)
        f = Followup(engine, processor, registry)

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement: str, *_args) -> None:  # noqa: ANN001
            words = statement.split()
            f.statements[" ".join(words[:3]) if words[0] in {"INSERT", "DELETE"} else words[0]] += 1
            f.sent.append(statement)

        return f

    yield make
    for engine in engines:
        await engine.dispose()


def opening_day() -> list[Envelope]:
    """Six people registered; three enter the régie de quartier's IAE dispositif, two are oriented."""
    events: list[Envelope] = []
    for p in "ABCDEF":
        events.append(registered(p, 0))
    events += [entered(p, 1, IAE, SIAE) for p in "ABC"]
    events += [issued(p, 1, f"ref-{p}") for p in "DE"]
    return events


def second_day() -> list[Envelope]:
    """A and B leave the dispositif with nothing next; G is new."""
    return [exited("A", 2, IAE, SIAE), exited("B", 2, IAE, SIAE), registered("G", 2)]


async def test_a_batch_leaves_the_worklists_caseloads_and_events_of_the_same_events_one_by_one(followup) -> None:
    together, one_by_one = await followup("together"), await followup("one_by_one")
    days = [[tick(0)], opening_day(), [tick(1)], second_day(), [tick(2)], [tick(20)], [tick(60)]]
    for day in days:
        await together.feed(*day)
        for e in day:
            await one_by_one.feed(e)

    # What the régie de quartier and the coordinator see: C is still in the dispositif, A and B left it.
    assert await together.held_by(SIAE) == {"C"}
    assert await together.worklist() == await one_by_one.worklist()
    assert await together.holds() == await one_by_one.holds()
    assert await together.told() == await one_by_one.told()
    assert ("fr.ariane.person.lost", "A") in await together.told()
    assert await together.ledger() == await one_by_one.ledger()
    assert (await together.ledger())["_known"] == 7


async def test_a_batch_writes_its_lines_holds_and_counts_in_one_round(followup) -> None:
    f = await followup()
    await f.feed(tick(1))
    await f.feed(*opening_day())
    # Six people first heard of: nothing to delete; one insert of lines, one of holds, one of counts.
    assert f.statements["DELETE FROM followup_action"] == 0
    assert f.statements["DELETE FROM followup_hold"] == 0
    assert f.statements["INSERT INTO followup_hold"] == 1
    assert f.statements["INSERT INTO followup_ledger"] == 1
    await f.feed(tick(2))
    await f.feed(*second_day())
    # Two known people and a new one: their old lines and holds go in one statement each.
    assert f.statements["DELETE FROM followup_action"] == 1
    assert f.statements["DELETE FROM followup_hold"] == 1
    assert f.statements["UPDATE"] == 1  # the two known persons' rows
    assert await f.held_by(SIAE) == {"C"}


def refusing(event_id: str) -> Callable[[Handler], Handler]:
    """A record the handler refuses after followup's own handler ran (its writes gathered or sent)."""

    def wrap(handler: Handler) -> Handler:
        async def handle(e: Envelope, uow: UnitOfWork) -> None:
            await handler(e, uow)
            if e.id == event_id:
                raise ValueError(f"{e.id} refused")

        return handle

    return wrap


@pytest.mark.parametrize("where", ["among good ones", "last of the batch"])
async def test_a_refused_record_goes_alone_to_the_dead_letters_and_its_neighbours_are_applied(followup, where) -> None:
    refused = entered("B", 1, IAE, SIAE)
    f = await followup(refuse=refusing(refused.id))
    await f.feed(tick(1))
    batch = [registered("A", 0), registered("B", 0), entered("A", 1, IAE, SIAE), refused,
             entered("C", 1, IAE, SIAE), registered("C", 0)]
    if where == "last of the batch":
        batch.remove(refused)
        batch.append(refused)
    await f.feed(*batch)

    # B's entry never happened for followup; A's and C's did; the refused record is one letter, with its reason.
    assert await f.held_by(SIAE) == {"A", "C"}
    letters = await f.letters()
    assert len(letters) == 1 and f"{refused.id} refused" in letters[0]["reason"]
    assert (await f.ledger())["_known"] == 3
    # Applied again (a redelivery), nothing moves.
    holds, ledger = await f.holds(), await f.ledger()
    f.offset -= len(batch)
    await f.feed(*batch)
    assert (await f.holds(), await f.ledger(), len(await f.letters())) == (holds, ledger, 1)


async def test_a_batch_whose_last_records_followup_skips_still_writes_the_others(followup) -> None:
    f = await followup()
    await f.feed(tick(1))
    first = registered("A", 0)
    await f.feed(first)
    acknowledged = ReferralAcknowledged(id="ack-1", source="mission_locale_angevine", subject="A", time=at(1),
                                        data=ReferralAcknowledgedData(referral_id="ref-a",
                                                                      structure_id="mission_locale_angevine"))
    # B enters the dispositif; then a type followup does not read, and A's registration again (a duplicate).
    await f.feed(registered("B", 0), entered("B", 1, IAE, SIAE), acknowledged, first)
    assert await f.held_by(SIAE) == {"B"}
    assert (await f.ledger())["_known"] == 2


async def test_the_tick_checks_the_counters_every_day_and_recounts_the_people_on_sundays(followup) -> None:
    f = await followup()
    await f.feed(tick(1))
    await f.feed(*opening_day())
    assert START.isoweekday() == 1  # the story starts on a Monday
    # Someone edits a person's state by hand: the counters still add up, only a recount sees it.
    async with f.engine.begin() as conn:
        await conn.execute(update(PersonRow).where(PersonRow.person_id == "F").values(state="lost"))
    for day in range(1, 6):  # Tuesday to Saturday
        await f.feed(tick(day))
        # The counters, the people due, the reviews: no count of every person by state.
        assert not [s for s in f.sent if "GROUP BY followup_person.state" in s]
    assert f.violations() == 0
    await f.feed(tick(6))  # Sunday
    assert f.violations() == 1
    # A counter edited by hand no longer adds up: seen on the next tick, a Monday.
    async with f.engine.begin() as conn:
        await conn.execute(text("UPDATE followup_ledger SET count = count + 1 WHERE name = '_known'"))
    await f.feed(tick(7))
    assert f.violations() == 2
