"""A day tick decides the reminders and expiries of everyone due in one handler: while it does, the rest of the
service's process (/health, /metrics, the relay), on the same event loop, still gets turns."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from contracts.clock import DayStarted
from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.territory import load_territory
from services.referral import handlers, store
from services.referral.app import definition
from services.referral.store.people import people_due
from services.runtime.db import make_engine, make_session_factory
from services.runtime.migrate import upgrade_to_head
from services.runtime.unit_of_work import UnitOfWork
from tests.support.turns import OtherWork, spin
from tests.unit.referral.referral_handler import ReferralHandler, run

PEOPLE = 100
FT = "france_travail_angers_centre"


def _registered(person: str) -> PersonRegistered:
    # A 21-year-old registered at France Travail: referred to the Mission locale the same day.
    return PersonRegistered(
        id=f"reg-{person}", source=FT, subject=person,
        time=datetime(2026, 1, 5, 10, tzinfo=timezone.utc), data=PersonRegisteredData(
            structure_id=FT, registered_on=date(2026, 1, 5), birth_year=2005, commune_insee="49007",
            qpv_resident=False, rqth=False, rsa=False, single_parent=False, education_level="3"))


async def test_a_tick_with_everyone_due_lets_the_rest_of_the_process_run(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'referral.db'}")
    d = definition()
    try:
        await upgrade_to_head(engine, "referral", d.metadata, d.versions_dir)
        factory = make_session_factory(engine)
        handler = ReferralHandler(load_territory())
        for n in range(PEOPLE):
            await run(factory, handler, _registered(f"p{n:03d}"))
        day = date(2026, 1, 5) + timedelta(days=60)  # two months without an answer from the Mission locale
        async with factory() as session:
            assert len(await people_due(session, day)) == PEOPLE

        # Each person's decision made to cost 1 ms more, as on a large territory; the other task's turns so far
        # are noted at each.
        seen: list[int] = []
        decide = handlers.on_day

        async with OtherWork() as other:  # what /health does: answer whenever the loop lets it
            def slow_decide(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
                seen.append(other.turns)
                spin(0.001)
                return decide(*args, **kwargs)

            monkeypatch.setattr(handlers, "on_day", slow_decide)
            async with factory() as session, session.begin():
                # As the processor applies a consumed batch: the outbox rows gathered for its end, so that
                # emitting waits on nothing.
                uow = UnitOfWork(session=session, tables=store.tables, service="referral", gather_outbox=True)
                await handler(DayStarted.for_day(day), uow)
                await uow.flush_outbox()
            emitted = uow.emitted
    finally:
        await engine.dispose()
    assert len(seen) == PEOPLE  # everyone due was decided by the tick
    assert len(emitted) >= PEOPLE  # and each referral's silence was told (a reminder or an expiry)
    # Before, the fold ran in one stretch: every person decided saw the same count of the other's turns.
    assert len(set(seen)) > 5, len(set(seen))
