"""How old a person is when they are oriented, from the year of birth alone (the only part of the birth date
that leaves intake), and who keeps them when the registering structure is itself a référent."""

from datetime import date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.territory import load_territory
from services.referral.domain.lifecycle import PersonState, decide
from services.referral.domain.orientation import Profile, possible_ages, referent_rule

TERRITORY = load_territory()
MISSION_LOCALE = "mission_locale_angevine"
FRANCE_TRAVAIL = "france_travail_angers_centre"
# Registering structures that are no orientation rule's target (a Mission emploi, a PLIE, a training body).
OUTSIDE_THE_RULES = sorted({s.id for s in TERRITORY.structures} - {r.to for r in TERRITORY.orientation})

days = st.dates(date(2024, 1, 1), date(2028, 12, 31))


def exact_age(born: date, on: date) -> int:
    """The civil age: the years completed on `on` (a birthday counts from its own day)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def registration(by: str, on: date, birth_year: int) -> PersonRegistered:
    return PersonRegistered(
        id="reg-1", source=by, subject="p-age", time=datetime.combine(on, datetime.min.time(), timezone.utc)
        + timedelta(hours=10), data=PersonRegisteredData(
            structure_id=by, registered_on=on, birth_year=birth_year, commune_insee="49007", qpv_resident=False,
            rqth=False, rsa=False, single_parent=False, education_level="4"))


@given(st.dates(date(1950, 1, 1), date(2012, 12, 31)), days)
def test_the_true_age_is_one_of_the_possible_ages(born: date, on: date) -> None:
    if born <= on:
        assert exact_age(born, on) in possible_ages(born.year, on)


def test_the_mission_locale_keeps_a_25_year_old_who_turns_26_later_that_year() -> None:
    # Born 21 October 2000, registered by the Mission locale on 12 January 2026: 25 that day.
    decision = decide(PersonState(person_id="p-age"), registration(MISSION_LOCALE, date(2026, 1, 12), 2000),
                      TERRITORY)
    assert decision.events == ()
    assert decision.state.held
    assert decision.state.referrals == {}


def test_someone_26_this_year_registered_elsewhere_goes_to_france_travail() -> None:
    # The Mission emploi de Trélazé registers someone born in 2000 on 2 March 2026: 26 this year.
    rule = referent_rule(TERRITORY, Profile(birth_year=2000), date(2026, 3, 2), registered_by="mission_emploi_trelaze")
    assert rule is not None and rule.to == FRANCE_TRAVAIL


def test_the_mission_locale_cannot_keep_someone_certainly_26() -> None:
    # Born in 1999: 26 on 1 January 2026 at the latest, whatever the Mission locale wrote.
    decision = decide(PersonState(person_id="p-age"), registration(MISSION_LOCALE, date(2026, 1, 12), 1999),
                      TERRITORY)
    assert [e.data.to_structure for e in decision.events] == [FRANCE_TRAVAIL]
    assert not decision.state.held


@given(st.dates(date(1990, 1, 1), date(2010, 12, 31)), days)
def test_anyone_under_26_the_day_the_mission_locale_registers_them_stays_with_it(born: date, on: date) -> None:
    if born <= on and 16 <= exact_age(born, on) <= 25:
        rule = referent_rule(TERRITORY, Profile(birth_year=born.year), on, registered_by=MISSION_LOCALE)
        assert rule is not None and rule.to == MISSION_LOCALE


@given(st.dates(date(1950, 1, 1), date(2010, 12, 31)), days, st.sampled_from(OUTSIDE_THE_RULES))
def test_nobody_26_or_more_is_sent_to_the_mission_locale(born: date, on: date, by: str) -> None:
    if born <= on and exact_age(born, on) >= 26:
        for registrant in (by, FRANCE_TRAVAIL, None):
            rule = referent_rule(TERRITORY, Profile(birth_year=born.year), on, registered_by=registrant)
            assert rule is not None and rule.to != MISSION_LOCALE


@given(st.dates(date(1950, 1, 1), date(2010, 12, 31)), days)
def test_the_mission_locale_keeps_nobody_it_cannot_have_taken_in(born: date, on: date) -> None:
    # The Mission locale registering someone whose 26th birthday passed earlier this year is its own knowing
    # decision (it saw the date; the year alone cannot tell); a year older, they are 26 whatever the date.
    if born <= on and exact_age(born, on) >= 27:
        rule = referent_rule(TERRITORY, Profile(birth_year=born.year), on, registered_by=MISSION_LOCALE)
        assert rule is not None and rule.to != MISSION_LOCALE


@given(st.integers(1950, 2012), days, st.sampled_from(OUTSIDE_THE_RULES), st.booleans(), st.booleans())
def test_a_registrant_outside_the_rules_changes_nothing(birth_year: int, on: date, by: str, rqth: bool,
                                                       rsa: bool) -> None:
    profile = Profile(birth_year=birth_year, rqth=rqth, rsa=rsa)
    assert referent_rule(TERRITORY, profile, on, registered_by=by) == referent_rule(TERRITORY, profile, on)
