"""The waiting room on a real SQLite unit of work: an early answer waits in the store, the day ticks count its
wait, and the answer whose referral never came ends as a dead letter with its reason, counted, and nothing else
written about the person."""

import json
from datetime import date, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlmodel import select

from contracts.clock import DayStarted
from contracts.territory import load_territory
from contracts.topics import DEADLETTER
from services.referral import store
from services.referral.metrics import ReferralMetrics
from services.referral.store.parked import ParkedAnswerRow
from services.runtime.deadletter import DeadLetter
from tests.unit.referral.referral_handler import ReferralHandler, run
from tests.unit.referral.test_waiting_answers import PERSON, PLIE, REGISTERED, accepted, prescription


async def table(factory, what):
    async with factory() as session:
        return list((await session.exec(select(what))).all())


async def letters(factory) -> list[dict]:
    async with factory() as session:
        rows = (await session.exec(select(store.tables.outbox.c.topic, store.tables.outbox.c.payload))).all()
    return [DeadLetter.parse(payload) for topic, payload in rows if topic == DEADLETTER]


def sample(registry: CollectorRegistry, outcome: str) -> float:
    return registry.get_sample_value("ariane_referral_waiting_answers_total",
                                     {"answer": "referral.accepted", "outcome": outcome}) or 0.0


async def test_an_answer_whose_referral_never_comes_is_dead_lettered_the_day_after_its_wait(session_factory):
    registry = CollectorRegistry()
    handler = ReferralHandler(load_territory(), metrics=ReferralMetrics.create(registry))
    await run(session_factory, handler, REGISTERED)
    await run(session_factory, handler, accepted(date(2026, 3, 12), referral_id="rx-never"))
    [row] = await table(session_factory, ParkedAnswerRow)
    assert (row.referral_id, row.waits_until) == ("rx-never", None)
    assert sample(registry, "parked") == 1

    await run(session_factory, handler, DayStarted.for_day(date(2026, 3, 13)))  # its wait starts: 30 days
    [row] = await table(session_factory, ParkedAnswerRow)
    assert row.waits_until == date(2026, 4, 12)
    for day in (date(2026, 4, 1), date(2026, 4, 12)):
        assert await run(session_factory, handler, DayStarted.for_day(day)) == []
        assert await letters(session_factory) == []

    assert await run(session_factory, handler, DayStarted.for_day(date(2026, 4, 13))) == []  # nothing emitted
    [letter] = await letters(session_factory)
    assert letter["reason"].startswith("unknown_referral: referral.accepted acc-rx-never-plie_angers from "
                                       "plie_angers"), letter["reason"]
    assert "rx-never" in letter["reason"] and letter["service"] == "referral"
    assert json.loads(letter["original"])["id"] == "acc-rx-never-plie_angers"
    assert await table(session_factory, ParkedAnswerRow) == []
    assert await table(session_factory, store.ReferralRow) == []  # no referral appeared, none changed
    async with session_factory() as session:
        state = await store.load_person(session, PERSON)
    assert state.pending == {} and state.referrals == {}
    assert (sample(registry, "expired"), sample(registry, "applied")) == (1, 0)
    # A later tick reports nothing more.
    await run(session_factory, handler, DayStarted.for_day(date(2026, 4, 14)))
    assert len(await letters(session_factory)) == 1


async def test_an_answer_whose_referral_comes_within_its_wait_is_applied_and_leaves_no_letter(session_factory):
    registry = CollectorRegistry()
    handler = ReferralHandler(load_territory(), metrics=ReferralMetrics.create(registry))
    await run(session_factory, handler, REGISTERED)
    await run(session_factory, handler, accepted(date(2026, 3, 12)))
    day = date(2026, 3, 13)
    while day <= date(2026, 4, 10):
        await run(session_factory, handler, DayStarted.for_day(day))
        day += timedelta(days=1)
    await run(session_factory, handler, prescription(day=date(2026, 3, 9)))  # recorded a month late
    assert await table(session_factory, ParkedAnswerRow) == []
    [referral] = await table(session_factory, store.ReferralRow)
    assert (referral.to_structure, referral.status, referral.accepted_on) == (PLIE, "accepted", date(2026, 3, 12))
    for later in (date(2026, 4, 12), date(2026, 4, 13), date(2026, 5, 20)):
        await run(session_factory, handler, DayStarted.for_day(later))
    assert await letters(session_factory) == []
    assert (sample(registry, "parked"), sample(registry, "applied"), sample(registry, "expired")) == (1, 1, 0)


async def test_an_early_answer_from_another_structure_is_dead_lettered_when_the_referral_comes(session_factory):
    registry = CollectorRegistry()
    handler = ReferralHandler(load_territory(), metrics=ReferralMetrics.create(registry))
    await run(session_factory, handler, REGISTERED)
    await run(session_factory, handler, accepted(date(2026, 3, 12), by="cap_emploi_49"))  # the PLIE's referral
    await run(session_factory, handler, prescription())
    [letter] = await letters(session_factory)
    assert letter["reason"].startswith("misdirected_answer: referral.accepted acc-rx-plie-cap_emploi_49 from "
                                       "cap_emploi_49"), letter["reason"]
    assert "sent to plie_angers" in letter["reason"]
    assert await table(session_factory, ParkedAnswerRow) == []
    [referral] = await table(session_factory, store.ReferralRow)
    assert (referral.to_structure, referral.status) == (PLIE, "issued")
    assert registry.get_sample_value("ariane_referral_waiting_answers_total",
                                     {"answer": "referral.accepted", "outcome": "misdirected"}) == 1
