"""The handler on a real SQLite unit of work: state survives between events, ticks find due referrals."""

from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from contracts.clock import DayStarted
from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.referrals import ReferralAccepted, ReferralAcceptedData
from contracts.territory import load_territory
from services.referral import store
from services.runtime.errors import PermanentError
from tests.unit.referral.referral_handler import ReferralHandler, run


def registered(person: str, birth_year: int) -> PersonRegistered:
    return PersonRegistered(id=f"reg-{person}", source="france_travail_angers_centre", subject=person,
                            time=datetime(2026, 1, 5, 9, tzinfo=timezone.utc),
                            data=PersonRegisteredData(structure_id="france_travail_angers_centre",
                                                      registered_on=date(2026, 1, 5), birth_year=birth_year,
                                                      commune_insee="49007", qpv_resident=False, rqth=False,
                                                      rsa=False, single_parent=False, education_level="3"))


async def test_a_young_person_is_referred_then_expires_on_the_tick_after_the_due_date(session_factory) -> None:
    handler = ReferralHandler(load_territory())
    emitted = await run(session_factory, handler, registered("p-1", 2005))
    assert [e.data.to_structure for e in emitted] == ["mission_locale_angevine"]
    due = emitted[0].data.due_date
    assert due == date(2026, 1, 20)
    # The due day itself is not past: a reminder at most, no expiry.
    on_due = await run(session_factory, handler, DayStarted.for_day(due))
    assert all(e.type.endswith("reminder_sent") for e in on_due)
    after = await run(session_factory, handler, DayStarted.for_day(date(2026, 1, 21)))
    kinds = sorted(e.type.rsplit(".", 1)[-1] for e in after)
    assert kinds == ["expired", "issued"]  # expired, and re-oriented to France Travail
    async with session_factory() as session:
        rows = (await session.exec(select(store.ReferralRow).order_by(store.ReferralRow.issued_on))).all()
    assert [(r.to_structure, r.status) for r in rows] == [("mission_locale_angevine", "expired"),
                                                          ("france_travail_angers_centre", "issued")]


async def test_an_answer_from_another_structure_is_refused(session_factory) -> None:
    handler = ReferralHandler(load_territory())
    issued = (await run(session_factory, handler, registered("p-2", 2005)))[0]
    wrong = ReferralAccepted(id="acc-1", source="cap_emploi_49", subject="p-2", time=issued.time,
                             data=ReferralAcceptedData(referral_id=issued.data.referral_id, structure_id="cap_emploi_49"))
    with pytest.raises(PermanentError):
        await run(session_factory, handler, wrong)
