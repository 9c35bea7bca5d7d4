"""A person registered twice, by two structures, each file oriented to France Travail; the coordinator decides
they are one person and intake merges the second file into the first. What France Travail, the registering
structures and the coordinator then see, day by day, on a real SQLite unit of work.

Nadia, born 1984, no RSA nor RQTH: her organisme référent is France Travail Angers Centre (the territory's
general case). The PLIE registers her on 2 March: France Travail gets an orientation (due 17 March). The Mission
emploi de Trélazé registers her again on 9 March, under another id: France Travail gets a second one (due 24
March). The merge of 12 March makes them one person with one orientation: France Travail's answer to either
one settles it, and nobody is reminded nor expired twice about her.
"""

from datetime import date, datetime, timedelta, timezone

from sqlmodel import select

from contracts.clock import DayStarted
from contracts.people import (
    PersonIdentitiesMerged,
    PersonIdentitiesMergedData,
    PersonProfileUpdated,
    PersonProfileUpdatedData,
    PersonRegistered,
    PersonRegisteredData,
)
from contracts.referrals import ReferralAccepted, ReferralAcceptedData
from contracts.territory import load_territory
from services.referral import store
from services.referral.store.parked import ParkedAnswerRow
from tests.unit.referral.referral_handler import ReferralHandler, run
from tests.unit.referral.test_waiting_answers_handler import letters

FT, PLIE, TRELAZE, CITE = ("france_travail_angers_centre", "plie_angers", "mission_emploi_trelaze",
                           "aldev_cite_emploi")
FIRST, SECOND = "p-nadia-plie", "p-nadia-trelaze"


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc).replace(hour=9)


def registered(person: str, by: str, day: date, *, qpv: bool = False) -> PersonRegistered:
    return PersonRegistered(id=f"reg-{person}", source=by, subject=person, time=at(day), data=PersonRegisteredData(
        structure_id=by, registered_on=day, birth_year=1984, commune_insee="49007", qpv_resident=qpv, rqth=False,
        rsa=False, single_parent=False, education_level="3"))


def merged(day: date, event_id: str = "merge-nadia") -> PersonIdentitiesMerged:
    return PersonIdentitiesMerged(id=event_id, source="ariane/intake", subject=FIRST, time=at(day),
                                  data=PersonIdentitiesMergedData(kept_person_id=FIRST, merged_person_id=SECOND,
                                                                  rule="manual"))


def accepted(person: str, referral_id: str, day: date, by: str = FT) -> ReferralAccepted:
    return ReferralAccepted(id=f"acc-{referral_id}-{person}", source=by, subject=person, time=at(day),
                            data=ReferralAcceptedData(referral_id=referral_id, structure_id=by))


def seen(events: list) -> list[tuple]:
    """What a structure reads in each event: what happened, to which referral, for whom."""
    return [(e.type.rsplit(".", 1)[-1], e.data.referral_id, e.subject) for e in events]


async def days(factory, handler, first: date, last: date) -> dict[date, list[tuple]]:
    out = {}
    day = first
    while day <= last:
        events = seen(await run(factory, handler, DayStarted.for_day(day)))
        if events:
            out[day] = events
        day += timedelta(days=1)
    return out


async def rows(factory) -> list[tuple]:
    async with factory() as session:
        found = (await session.exec(select(store.ReferralRow).order_by(store.ReferralRow.issued_on))).all()
    return [(r.person_id, r.referral_id, r.to_structure, r.status) for r in found]


async def two_files(factory, handler) -> tuple[str, str]:
    [first] = await run(factory, handler, registered(FIRST, PLIE, date(2026, 3, 2)))
    [second] = await run(factory, handler, registered(SECOND, TRELAZE, date(2026, 3, 9)))
    assert (first.data.to_structure, first.data.due_date) == (FT, date(2026, 3, 17))
    assert (second.data.to_structure, second.data.due_date) == (FT, date(2026, 3, 24))
    return first.data.referral_id, second.data.referral_id


async def test_after_the_merge_france_travail_has_one_orientation_answered_by_either_id(session_factory):
    handler = ReferralHandler(load_territory())
    a1, b1 = await two_files(session_factory, handler)
    before = await days(session_factory, handler, date(2026, 3, 3), date(2026, 3, 11))
    # Before the decision nobody can tell: each file's orientation is reminded, to be acknowledged.
    assert before == {date(2026, 3, 4): [("reminder_sent", a1, FIRST)],
                      date(2026, 3, 11): [("reminder_sent", b1, SECOND)]}

    assert await run(session_factory, handler, merged(date(2026, 3, 12))) == []
    # One person, one orientation to France Travail: the first one, under the kept id.
    assert await rows(session_factory) == [(FIRST, a1, FT, "issued")]

    # France Travail is reminded once to accept (the first orientation's due date), not for the second file.
    assert await days(session_factory, handler, date(2026, 3, 12), date(2026, 3, 15)) == {
        date(2026, 3, 14): [("reminder_sent", a1, FIRST)]}
    # It answers the second file's orientation, under the second file's id: that settles the one orientation.
    assert await run(session_factory, handler, accepted(SECOND, b1, date(2026, 3, 16))) == []
    assert await rows(session_factory) == [(FIRST, a1, FT, "accepted")]
    # Neither due date brings an expiry nor a re-orientation; the next word is the first appointment's reminder.
    later = await days(session_factory, handler, date(2026, 3, 16), date(2026, 4, 30))
    assert later == {date(2026, 4, 12): [("reminder_sent", a1, FIRST)]}
    assert await letters(session_factory) == []


async def test_an_answer_naming_the_first_files_orientation_under_the_second_id_waits_for_the_merge(session_factory):
    handler = ReferralHandler(load_territory())
    a1, b1 = await two_files(session_factory, handler)
    # France Travail recognises its person and accepts the first orientation, but files it under the second id:
    # the second file has no such referral, so the answer waits.
    assert await run(session_factory, handler, accepted(SECOND, a1, date(2026, 3, 10))) == []
    async with session_factory() as session:
        assert [r.person_id for r in (await session.exec(select(ParkedAnswerRow))).all()] == [SECOND]

    assert await run(session_factory, handler, merged(date(2026, 3, 12))) == []
    # The merge brings them together: the acceptance applies, both orientations are one, taken up.
    assert await rows(session_factory) == [(FIRST, a1, FT, "accepted")]
    async with session_factory() as session:
        assert (await session.exec(select(ParkedAnswerRow))).all() == []
    later = await days(session_factory, handler, date(2026, 3, 12), date(2026, 4, 10))
    assert later == {date(2026, 4, 6): [("reminder_sent", a1, FIRST)]}  # first appointment, due 9 April
    assert await letters(session_factory) == []


async def test_the_same_merge_twice_changes_nothing(session_factory):
    handler = ReferralHandler(load_territory())
    a1, b1 = await two_files(session_factory, handler)
    await run(session_factory, handler, merged(date(2026, 3, 12)))
    after_once = await rows(session_factory)
    assert await run(session_factory, handler, merged(date(2026, 3, 12))) == []
    assert await run(session_factory, handler, merged(date(2026, 3, 13), event_id="merge-nadia-again")) == []
    assert await rows(session_factory) == after_once == [(FIRST, a1, FT, "issued")]
    async with session_factory() as session:
        assert await store.current_id(session, SECOND) == FIRST
        assert await store.current_id(session, FIRST) == FIRST
        assert await store.current_id(session, "p-nobody") is None


async def test_the_second_registration_arriving_after_the_merge_orients_nobody_again(session_factory):
    handler = ReferralHandler(load_territory())
    [first] = await run(session_factory, handler, registered(FIRST, PLIE, date(2026, 3, 2)))
    # Intake merged the files on 12 March; the second registration (dated 9 March) is read after it.
    assert await run(session_factory, handler, merged(date(2026, 3, 12))) == []
    assert await run(session_factory, handler, registered(SECOND, TRELAZE, date(2026, 3, 9))) == []
    assert await rows(session_factory) == [(FIRST, first.data.referral_id, FT, "issued")]
    # France Travail's answer with the second id reaches the person's one orientation.
    await run(session_factory, handler, accepted(SECOND, first.data.referral_id, date(2026, 3, 13)))
    assert await rows(session_factory) == [(FIRST, first.data.referral_id, FT, "accepted")]


async def test_a_rule_fired_for_either_file_does_not_fire_again_for_the_person(session_factory):
    handler = ReferralHandler(load_territory())
    # A QPV resident: each registration orients to France Travail and to the Cité de l'emploi.
    first = await run(session_factory, handler, registered(FIRST, PLIE, date(2026, 3, 2), qpv=True))
    second = await run(session_factory, handler, registered(SECOND, TRELAZE, date(2026, 3, 9), qpv=True))
    assert sorted(e.data.to_structure for e in first) == sorted(e.data.to_structure for e in second) == [CITE, FT]
    await run(session_factory, handler, merged(date(2026, 3, 12)))
    by_structure = {e.data.to_structure: e.data.referral_id for e in first}
    assert await rows(session_factory) == sorted([(FIRST, by_structure[FT], FT, "issued"),
                                                   (FIRST, by_structure[CITE], CITE, "issued")],
                                                  key=lambda r: r[2] != FT)
    # The Cité de l'emploi accepts the second file's orientation: the person's one orientation to it is accepted.
    cite_second = next(e.data.referral_id for e in second if e.data.to_structure == CITE)
    await run(session_factory, handler, accepted(SECOND, cite_second, date(2026, 3, 13), by=CITE))
    # A profile update on either id fires nothing already fired.
    update = PersonProfileUpdated(id="upd-1", source=TRELAZE, subject=SECOND, time=at(date(2026, 3, 20)),
                                  data=PersonProfileUpdatedData(structure_id=TRELAZE, qpv_resident=True))
    assert await run(session_factory, handler, update) == []
    assert [(r[2], r[3]) for r in await rows(session_factory)] == [(FT, "issued"), (CITE, "accepted")]
