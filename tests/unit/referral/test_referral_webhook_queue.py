"""The handler queues a webhook notice in the decision's own transaction, with the bytes published on Kafka."""

from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from contracts.clock import DayStarted
from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.territory import load_territory
from services.referral import store
from services.runtime.unit_of_work import UnitOfWork
from tests.unit.referral.referral_handler import ReferralHandler

ML = "mission_locale_angevine"
URL = "http://127.0.0.1:9/ml"
NOW = datetime(2026, 1, 5, 10, tzinfo=timezone.utc)


def registered(person: str, birth_year: int) -> PersonRegistered:
    return PersonRegistered(id=f"reg-{person}", source="france_travail_angers_centre", subject=person,
                            time=datetime(2026, 1, 5, 9, tzinfo=timezone.utc),
                            data=PersonRegisteredData(structure_id="france_travail_angers_centre",
                                                      registered_on=date(2026, 1, 5), birth_year=birth_year,
                                                      commune_insee="49007", qpv_resident=False, rqth=False,
                                                      rsa=False, single_parent=False, education_level="3"))


async def run(factory, handler, event, *, fail_after: bool = False) -> list:
    async with factory() as session:
        async with session.begin():
            uow = UnitOfWork(session=session, tables=store.tables, service="referral")
            await handler(event, uow)
            if fail_after:
                raise RuntimeError("the batch fails after the handler")
        return uow.emitted


async def deliveries(factory) -> list[store.WebhookDeliveryRow]:
    async with factory() as session:
        return list((await session.exec(select(store.WebhookDeliveryRow)
                                        .order_by(store.WebhookDeliveryRow.created_at,
                                                  store.WebhookDeliveryRow.event_id))).all())


async def test_an_orientation_to_a_structure_with_a_webhook_queues_the_published_bytes(session_factory) -> None:
    handler = ReferralHandler(load_territory(), webhook_urls={ML: URL}, now=lambda: NOW)
    emitted = await run(session_factory, handler, registered("p-1", 2005))
    rows = await deliveries(session_factory)
    assert [(r.event_id, r.structure_id, r.url, r.status, r.attempts) for r in rows] == [
        (emitted[0].id, ML, URL, "pending", 0)]
    assert rows[0].body == emitted[0].to_json_bytes()
    # Reminders and the expiry go to the same structure; the re-orientation to France Travail (no URL) does not.
    for day in (date(2026, 1, 8), date(2026, 1, 17), date(2026, 1, 21)):  # acknowledge, accept, expiry
        await run(session_factory, handler, DayStarted.for_day(day))
    kinds = sorted(r.event_type.rsplit(".", 1)[-1] for r in await deliveries(session_factory))
    assert kinds == ["expired", "issued", "reminder_sent", "reminder_sent"]


async def test_no_notice_for_structures_without_a_webhook_nor_for_a_rolled_back_decision(session_factory) -> None:
    handler = ReferralHandler(load_territory(), webhook_urls={ML: URL}, now=lambda: NOW)
    assert await run(session_factory, handler, registered("p-2", 1980)) == []  # France Travail holds them
    with pytest.raises(RuntimeError):
        await run(session_factory, handler, registered("p-3", 2005), fail_after=True)
    assert await deliveries(session_factory) == []
