"""A day tick's work follows what is due that day, not the people the store holds: its queries go through their
due-date indexes, and a person whose case is closed is not read again on every tick.

The query plans are asserted on SQLite, on a store built by the service's own migrations and filled with a few
thousand people's referrals, most of them with nothing due. PostgreSQL's planner may rightly prefer a sequential
scan on a table this small (its choice follows the table's statistics), so its plan is not asserted here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from contracts.clock import DayStarted
from contracts.followup import CaseClosed, CaseClosedData
from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.referrals import ReferralAccepted, ReferralAcceptedData
from contracts.territory import load_territory
from contracts.vocabulary import CloseReason
from services.referral import store
from services.referral.app import definition
from services.referral.store import parked
from services.referral.store.people import due_query, people_due
from services.runtime.db import make_engine, make_session_factory
from services.runtime.migrate import upgrade_to_head
from tests.unit.referral.referral_handler import ReferralHandler, run

PEOPLE = 3000
DAY = date(2026, 6, 1)


@pytest.fixture
async def engine(tmp_path):  # noqa: ANN001, ANN201
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'referral.db'}")
    d = definition()
    await upgrade_to_head(engine, "referral", d.metadata, d.versions_dir)
    yield engine
    await engine.dispose()


async def _fill(engine) -> None:  # noqa: ANN001
    """Two referrals per person over a year; one in twenty has a check to come, the rest are answered."""
    referrals, answers = [], []
    for n in range(PEOPLE):
        issued = date(2026, 1, 1) + timedelta(days=n % 300)
        for k in range(2):
            referrals.append({
                "person_id": f"p{n:05d}", "referral_id": f"r{k}", "kind": "orientation", "origin": "rule",
                "from_structure": "france_travail_angers_centre", "to_structure": "mission_locale_angevine",
                "status": "issued" if n % 20 == 0 else "accepted", "issued_on": issued, "acknowledge_due": issued,
                "accept_due": issued + timedelta(days=15), "sla_breached": False,
                "next_check_on": issued + timedelta(days=12) if n % 20 == 0 else None})
        answers.append({"event_id": f"a{n:05d}", "person_id": f"p{n:05d}", "referral_id": "r9",
                        "answer_on": issued, "waits_until": issued + timedelta(days=30), "topic": "t",
                        "partition": 0, "offset": n, "original": b""})
    async with engine.begin() as conn:
        await conn.execute(store.ReferralRow.__table__.insert(), referrals)
        await conn.execute(parked.ParkedAnswerRow.__table__.insert(), answers)


async def _plan(engine, query) -> list[str]:  # noqa: ANN001
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        return [row[-1] for row in (await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))).all()]


async def test_the_due_queries_of_a_tick_read_their_index_not_the_table(engine) -> None:  # noqa: ANN001
    await _fill(engine)
    for query, index in ((due_query(DAY), "ix_referral_referral_next_check_on"),
                         (parked.due_query(DAY), "ix_referral_parked_answer_waits_until")):
        plan = await _plan(engine, query)
        assert any(step.startswith("SEARCH") and index in step for step in plan), plan
        assert not any(step.startswith("SCAN") for step in plan), plan


def _at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=10)


async def test_a_closed_case_is_not_read_again_on_later_ticks(engine) -> None:  # noqa: ANN001
    # France Travail registers a 21-year-old: referred to the Mission locale, which accepts (its first
    # appointment is still to come), then the person moves away and France Travail closes the case.
    handler = ReferralHandler(load_territory())
    factory = make_session_factory(engine)
    person, ft, ml = "p-moved", "france_travail_angers_centre", "mission_locale_angevine"
    issued = (await run(factory, handler, PersonRegistered(
        id="reg", source=ft, subject=person, time=_at(date(2026, 1, 5)), data=PersonRegisteredData(
            structure_id=ft, registered_on=date(2026, 1, 5), birth_year=2005, commune_insee="49007",
            qpv_resident=False, rqth=False, rsa=False, single_parent=False, education_level="3"))))[0]
    await run(factory, handler, ReferralAccepted(id="acc", source=ml, subject=person, time=_at(date(2026, 1, 8)),
                                                 data=ReferralAcceptedData(referral_id=issued.data.referral_id,
                                                                           structure_id=ml)))
    await run(factory, handler, CaseClosed(id="closed", source=ft, subject=person, time=_at(date(2026, 1, 9)),
                                           data=CaseClosedData(reason=CloseReason.MOVED_AWAY)))
    # Every later tick, including those past the first appointment's date, has nobody to read.
    for day in (date(2026, 1, 20), date(2026, 2, 10), date(2026, 3, 1)):
        async with factory() as session:
            assert await people_due(session, day) == []
        assert await run(factory, handler, DayStarted.for_day(day)) == []


async def test_a_store_written_before_closed_cases_stopped_being_due_heals_on_one_tick(engine) -> None:  # noqa: ANN001
    # A closed person whose rows still carry a check day in the past, as the service wrote them until now.
    factory = make_session_factory(engine)
    handler = ReferralHandler(load_territory())
    person, ft = "p-old", "france_travail_angers_centre"
    await run(factory, handler, PersonRegistered(
        id="reg", source=ft, subject=person, time=_at(date(2026, 1, 5)), data=PersonRegisteredData(
            structure_id=ft, registered_on=date(2026, 1, 5), birth_year=2005, commune_insee="49007",
            qpv_resident=False, rqth=False, rsa=False, single_parent=False, education_level="3")))
    await run(factory, handler, CaseClosed(id="closed", source=ft, subject=person, time=_at(date(2026, 1, 6)),
                                           data=CaseClosedData(reason=CloseReason.MOVED_AWAY)))
    async with factory() as session, session.begin():
        await session.execute(text("UPDATE referral_referral SET next_check_on = '2026-01-10'"))
    async with factory() as session:
        assert await people_due(session, date(2026, 1, 20)) == [person]
    assert await run(factory, handler, DayStarted.for_day(date(2026, 1, 20))) == []
    async with factory() as session:
        assert await people_due(session, date(2026, 1, 21)) == []
