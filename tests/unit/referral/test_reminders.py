"""Reminders to answer a referral, from the receiving structure's side (partner story 44): a structure whose
dispositif the person already entered is not nudged to answer for them; any other structure still is."""

from datetime import date, datetime, timedelta, timezone

from contracts.clock import DayStarted
from contracts.pathway import DispositifEntered, DispositifEnteredData
from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.referrals import ReferralIssued, ReferralIssuedData, ReferralReminderSent
from contracts.territory import load_territory
from services.referral.domain.lifecycle import PersonState, decide, on_day

TERRITORY = load_territory()
FT, PLIE, CARBUR = "france_travail_angers_centre", "plie_angers", "carbur_pera"
PERSON = "p-44"


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc).replace(hour=10)


def prescribed(referral_id: str, to: str, on: date) -> ReferralIssued:
    return ReferralIssued(id=f"iss-{referral_id}", source=FT, subject=PERSON, time=at(on), data=ReferralIssuedData(
        referral_id=referral_id, kind="prescription", from_structure=FT, to_structure=to, reason="prescription",
        due_date=on + timedelta(days=15)))


def reminded_between(first: date, last: date, *events) -> list[tuple[date, str, str]]:
    """Each day from `first` to `last`: its tick, then the events dated that day (those dated before `first`
    come first); the reminders sent, by day."""
    state = PersonState(person_id=PERSON)
    for event in events:
        if event.time.date() < first:
            state = decide(state, event, TERRITORY).state
    out = []
    day = first
    while day <= last:
        decision = on_day(state, DayStarted.for_day(day), TERRITORY)
        state = decision.state
        out += [(day, e.data.structure_id, str(e.data.deadline)) for e in decision.events
                if isinstance(e, ReferralReminderSent)]
        for event in events:
            if event.time.date() == day:
                state = decide(state, event, TERRITORY).state
        day += timedelta(days=1)
    return out


def registration() -> PersonRegistered:
    return PersonRegistered(id="reg-44", source=FT, subject=PERSON, time=at(date(2026, 3, 2)), data=PersonRegisteredData(
        structure_id=FT, registered_on=date(2026, 3, 2), birth_year=1983, commune_insee="49007", qpv_resident=False,
        rqth=False, rsa=False, single_parent=False, education_level="4"))


def plie_entry() -> DispositifEntered:
    return DispositifEntered(id="in-44", source=PLIE, subject=PERSON, time=at(date(2026, 3, 16)),
                             data=DispositifEnteredData(dispositif_id="plie_parcours", structure_id=PLIE))


def test_the_plie_is_reminded_to_answer_while_the_person_is_not_in_its_parcours():
    # France Travail prescribes the PLIE on 9 March (answer due 24 March) and nothing else happens: the PLIE is
    # reminded three days before each deadline (acknowledge by 14 March, accept by 24 March).
    got = reminded_between(date(2026, 3, 9), date(2026, 3, 24), registration(),
                           prescribed("rx-44-plie", PLIE, date(2026, 3, 9)))
    assert [(d.isoformat(), s, k) for d, s, k in got] == [("2026-03-11", PLIE, "acknowledge"),
                                                          ("2026-03-21", PLIE, "accept")]


def test_the_plie_holding_the_person_in_its_parcours_is_not_reminded_but_another_structure_is():
    # Story 44: the PLIE's entry of 16 March arrives before its acceptance. Reminded to acknowledge on 11 March,
    # it is not nudged to accept on 21 March; CARBUR'PERA, prescribed the same day and silent, is reminded both
    # times.
    got = reminded_between(date(2026, 3, 9), date(2026, 3, 24), registration(),
                           prescribed("rx-44-plie", PLIE, date(2026, 3, 9)),
                           prescribed("rx-44-carbur", CARBUR, date(2026, 3, 9)), plie_entry())
    assert [(d.isoformat(), k) for d, s, k in got if s == PLIE] == [("2026-03-11", "acknowledge")]
    assert [(d.isoformat(), s) for d, s, _k in got if s == CARBUR] == [("2026-03-11", CARBUR), ("2026-03-21", CARBUR)]
