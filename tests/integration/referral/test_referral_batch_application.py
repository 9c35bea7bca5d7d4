"""Referral applies a consumed batch in one round of reads and writes, and the referrals, orientations, waiting
answers and events it leaves are those of the same events applied one by one; a record refused among good ones
is dead-lettered alone.

Through referral's own handlers and the runtime's processor on a real store (SQLite, or PostgreSQL when
ARIANE_DATABASE_URL says so), batches fixed by the test: no broker, so that what a batch is does not depend on
the consumer's timing."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import topics
from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.people import (
    PersonIdentitiesMerged,
    PersonIdentitiesMergedData,
    PersonRegistered,
    PersonRegisteredData,
)
from contracts.referrals import (
    ReferralAcknowledged,
    ReferralAcknowledgedData,
    ReferralIssued,
    ReferralIssuedData,
)
from services.referral.app import definition
from services.referral.store import PersonRow, ReferralRow, tables
from services.referral.store.parked import ParkedAnswerRow
from services.runtime.db import make_engine, make_session_factory
from services.runtime.deadletter import DeadLetter
from services.runtime.metrics import RuntimeMetrics
from services.runtime.migrate import upgrade_to_head
from services.runtime.processor import EventProcessor
from services.runtime.records import Record
from services.runtime.settings import RuntimeSettings
from services.runtime.unit_of_work import UnitOfWork
from simulator.year import simulate

FT, PLIE, TRELAZE, CITE = ("france_travail_angers_centre", "plie_angers", "mission_emploi_trelaze",
                           "aldev_cite_emploi")
MONDAY = date(2026, 3, 2)
Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]


class Referral:
    """Referral's apply path on one store, fed batch by batch; the SQL statements it sends, by verb and table."""

    def __init__(self, engine: AsyncEngine, processor: EventProcessor) -> None:
        self.engine, self.processor = engine, processor
        self.offset = 0
        self.statements: Counter[str] = Counter()  # of the last batch fed

    async def feed(self, *events: Envelope) -> None:
        records = []
        for e in events:
            topic = topics.CLOCK if isinstance(e, DayStarted) else topics.INTAKE
            records.append(Record(topic, 0, self.offset, e.subject.encode(), e.to_json_bytes()))
            self.offset += 1
        self.statements.clear()
        await self.processor.process_batch(records)

    async def rows(self, query) -> list[Any]:  # noqa: ANN001
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def people(self) -> dict[str, str]:
        return dict(await self.rows(select(PersonRow.person_id, PersonRow.state)))

    async def referrals(self) -> set[tuple]:
        return set(await self.rows(select(*ReferralRow.__table__.c)))

    async def waiting(self) -> set[tuple]:
        return set(await self.rows(select(ParkedAnswerRow.event_id, ParkedAnswerRow.person_id,
                                          ParkedAnswerRow.waits_until, ParkedAnswerRow.topic,
                                          ParkedAnswerRow.partition, ParkedAnswerRow.offset)))

    async def told(self) -> list[tuple[str, str, str]]:
        """What referral published, in the order it did (dead letters apart)."""
        outbox = tables.outbox
        rows = await self.rows(select(outbox.c.event_id, outbox.c.event_type, outbox.c.key).order_by(outbox.c.id))
        return [(r.event_id, r.event_type, r.key) for r in rows if r.event_type != "deadletter"]

    async def letters(self) -> list[dict]:
        outbox = tables.outbox
        rows = await self.rows(select(outbox.c.payload).where(outbox.c.event_type == "deadletter")
                               .order_by(outbox.c.id))
        return [DeadLetter.parse(bytes(r.payload)) for r in rows]


@pytest.fixture
async def referral(database_url_factory) -> AsyncIterator[Callable[..., Awaitable[Referral]]]:  # noqa: ANN001
    """Make a referral on a fresh store; `refuse` wraps its handler (a record to refuse after it ran)."""
    engines: list[AsyncEngine] = []

    async def make(name: str = "referral", refuse: Callable[[Handler], Handler] | None = None) -> Referral:
        service = definition()
        engine = make_engine(await database_url_factory(name))
        engines.append(engine)
        await upgrade_to_head(engine, "referral", service.metadata, service.versions_dir)
        factory = make_session_factory(engine)
        registry = CollectorRegistry()
        settings = RuntimeSettings()
        ctx = SimpleNamespace(registry=registry, session_factory=factory, engine=engine, name="referral",
                              settings=settings, read_session_factory=factory)
        wiring = await service.start(ctx)
        handler = refuse(wiring.handler) if refuse else wiring.handler
        processor = EventProcessor("referral", factory, service.tables, handler,
                                   RuntimeMetrics.create("referral", registry), settings)
        r = Referral(engine, processor)

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement: str, *_args) -> None:  # noqa: ANN001
            words = statement.split()
            if words[0] == "SELECT":  # SELECT and the first table it reads (none: the outbox's lock on PostgreSQL)
                tables_read = [w for before, w in zip(words, words[1:]) if before == "FROM"]
                r.statements[" ".join(["SELECT", *tables_read[:1]])] += 1
            else:
                verb_and_table = {"INSERT": 3, "DELETE": 3, "UPDATE": 2}.get(words[0], 1)  # INSERT INTO x, UPDATE x
                r.statements[" ".join(words[:verb_and_table])] += 1

        return r

    yield make
    for engine in engines:
        await engine.dispose()


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc).replace(hour=10)


def registered(person: str, by: str, day: date = MONDAY, *, born: int = 1984) -> PersonRegistered:
    return PersonRegistered(id=f"reg-{person}", source=by, subject=person, time=at(day), data=PersonRegisteredData(
        structure_id=by, registered_on=day, birth_year=born, commune_insee="49007", qpv_resident=False, rqth=False,
        rsa=False, single_parent=False, education_level="3"))


def prescribed(person: str, referral_id: str, to: str, day: date = MONDAY) -> ReferralIssued:
    return ReferralIssued(id=f"iss-{referral_id}", source=PLIE, subject=person, time=at(day),
                          data=ReferralIssuedData(referral_id=referral_id, kind="prescription", from_structure=PLIE,
                                                  to_structure=to, reason="prescription",
                                                  due_date=day + timedelta(days=15)))


def acknowledged(person: str, referral_id: str, by: str, day: date = MONDAY) -> ReferralAcknowledged:
    return ReferralAcknowledged(id=f"ack-{referral_id}", source=by, subject=person, time=at(day),
                                data=ReferralAcknowledgedData(referral_id=referral_id, structure_id=by))


def merged(kept: str, gone: str, day: date = MONDAY) -> PersonIdentitiesMerged:
    return PersonIdentitiesMerged(id=f"merge-{gone}", source="ariane/intake", subject=kept, time=at(day),
                                  data=PersonIdentitiesMergedData(kept_person_id=kept, merged_person_id=gone,
                                                                  rule="manual"))


def a_monday() -> list[Envelope]:
    """Nadia is registered by the PLIE and again, under another id, by the Mission emploi de Trélazé: France
    Travail, her organisme référent, gets an orientation for each file; the coordinator's merge makes them one.
    France Travail registers Karim itself (it holds him: no orientation); the Cité de l'emploi acknowledges the
    PLIE's prescription for him before the prescription itself arrives."""
    return [registered("nadia", PLIE), acknowledged("karim", "plie-karim-1", CITE), registered("karim", FT),
            registered("nadia-2", TRELAZE), prescribed("karim", "plie-karim-1", CITE), merged("nadia", "nadia-2"),
            registered("lea", PLIE)]


async def test_a_batch_leaves_the_referrals_and_events_of_the_same_events_one_by_one(referral) -> None:
    together, one_by_one = await referral("together"), await referral("one_by_one")
    for r in (together, one_by_one):
        await r.feed(DayStarted.for_day(MONDAY))
    await together.feed(*a_monday())
    for e in a_monday():
        await one_by_one.feed(e)

    # What France Travail and the Cité de l'emploi see: one orientation for Nadia (the other file's joined it
    # at the merge), Karim's prescription acknowledged with nothing left waiting, Léa oriented.
    referrals = await together.referrals()
    to_ft = sorted(r.person_id for r in referrals if r.to_structure == FT)
    assert to_ft == ["lea", "nadia"]
    assert {(r.referral_id, r.status) for r in referrals if r.person_id == "karim"} == {("plie-karim-1",
                                                                                         "acknowledged")}
    assert await together.waiting() == set()
    issued = [(t, key) for _, t, key in await together.told()]
    assert issued == [("fr.ariane.referral.issued", p) for p in ("nadia", "nadia-2", "lea")]
    assert (await together.people()).keys() == {"nadia", "nadia-2", "karim", "lea"}

    assert referrals == await one_by_one.referrals()
    assert await together.people() == await one_by_one.people()
    assert await together.told() == await one_by_one.told()

    # Their deadlines come, in both stores alike: reminders, then the expiry and the re-orientation.
    for day in (MONDAY + timedelta(days=n) for n in (1, 3, 12, 16, 17)):
        for r in (together, one_by_one):
            await r.feed(DayStarted.for_day(day))
    kinds = Counter(t for _, t, _ in await together.told())
    assert kinds["fr.ariane.referral.reminder_sent"] > 0 and kinds["fr.ariane.referral.expired"] > 0
    assert await together.told() == await one_by_one.told()
    assert await together.referrals() == await one_by_one.referrals()
    assert await together.people() == await one_by_one.people()


async def test_a_simulated_territory_fed_day_by_day_leaves_what_it_leaves_event_by_event(referral) -> None:
    """Sixty people over seven weeks (registrations, answers early and late, closures, dispositifs, jobs): each
    day's events in one batch, or each alone."""
    year = simulate("territory", people=60, seed=11, days=50)
    together, one_by_one = await referral("sim_together"), await referral("sim_one_by_one")
    for day in year.stream():
        for r in (together, one_by_one):
            await r.feed(day.tick)
        await together.feed(*day.events)
        for e in day.events:
            await one_by_one.feed(e)
    told = await together.told()
    assert {t for _, t, _ in told} >= {"fr.ariane.referral.issued", "fr.ariane.referral.reminder_sent"}
    assert told == await one_by_one.told()
    assert await together.referrals() == await one_by_one.referrals()
    assert await together.people() == await one_by_one.people()
    assert await together.letters() == await one_by_one.letters()
    assert {w[:3] for w in await together.waiting()} == {w[:3] for w in await one_by_one.waiting()}


async def test_a_batch_writes_its_people_and_referrals_in_one_round(referral) -> None:
    r = await referral()
    await r.feed(DayStarted.for_day(MONDAY))
    await r.feed(*a_monday())
    # Four people first heard of, read in one query: one insert of people, one of referrals, nothing to delete.
    assert r.statements["SELECT referral_person"] == 1
    assert r.statements["SELECT referral_inbox"] == 1  # where the waiting answer came from (for its letter)
    assert r.statements["INSERT INTO referral_person"] == 1
    assert r.statements["INSERT INTO referral_referral"] == 1
    assert r.statements["DELETE FROM referral_referral"] == 0
    assert r.statements["UPDATE referral_person"] == 0
    later = MONDAY + timedelta(days=1)
    await r.feed(prescribed("karim", "plie-karim-2", TRELAZE, later), prescribed("lea", "plie-lea-1", CITE, later),
                 registered("omar", PLIE, later))
    # Two known people and a new one: the known ones' rows in one UPDATE, their referral rows in one DELETE.
    assert r.statements["SELECT referral_person"] == 1
    assert r.statements["UPDATE referral_person"] == 1
    assert r.statements["DELETE FROM referral_referral"] == 1
    assert r.statements["INSERT INTO referral_person"] == 1
    assert r.statements["INSERT INTO referral_referral"] == 1


def refusing(event_id: str) -> Callable[[Handler], Handler]:
    """A record the handler refuses after referral's own handler ran (its writes gathered or sent)."""

    def wrap(handler: Handler) -> Handler:
        async def handle(e: Envelope, uow: UnitOfWork) -> None:
            await handler(e, uow)
            if e.id == event_id:
                raise ValueError(f"{e.id} refused")

        return handle

    return wrap


@pytest.mark.parametrize("where", ["among good ones", "last of the batch"])
async def test_a_refused_record_goes_alone_to_the_dead_letters_and_its_neighbours_are_applied(referral,
                                                                                              where) -> None:
    refused = registered("nadia-2", TRELAZE)
    r = await referral(refuse=refusing(refused.id))
    await r.feed(DayStarted.for_day(MONDAY))
    batch = [e for e in a_monday() if e.id != refused.id]
    batch.insert(len(batch) if where == "last of the batch" else 3, refused)
    await r.feed(*batch)

    # The second registration never happened for referral: one orientation for Nadia, under her own id, and
    # the merge found nothing to fold; Karim's and Léa's facts were applied.
    referrals = await r.referrals()
    assert sorted(x.person_id for x in referrals if x.to_structure == FT) == ["lea", "nadia"]
    assert {(x.referral_id, x.status) for x in referrals if x.person_id == "karim"} == {("plie-karim-1",
                                                                                         "acknowledged")}
    assert [key for _, _, key in await r.told()] == ["nadia", "lea"]
    letters = await r.letters()
    assert len(letters) == 1 and f"{refused.id} refused" in letters[0]["reason"]
    # Applied again (a redelivery), nothing moves.
    people, told = await r.people(), await r.told()
    r.offset -= len(batch)
    await r.feed(*batch)
    assert (await r.people(), await r.told(), len(await r.letters())) == (people, told, 1)
