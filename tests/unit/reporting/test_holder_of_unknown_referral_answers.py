"""The report's holder: an acceptance of a referral Ariane never received holds nobody (tests/stories/34)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.referrals import ReferralAccepted, ReferralAcceptedData, ReferralIssued, ReferralIssuedData
from services.reporting.domain.persons import persons_by_state
from services.reporting.domain.projection import fold
from services.reporting.domain.views import views

PARIS = ZoneInfo("Europe/Paris")
FT, PLIE = "france_travail_angers_centre", "plie_angers"


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), PARIS)


def registered() -> PersonRegistered:
    return PersonRegistered(id="reg", source=FT, subject="p", time=at(date(2026, 5, 25)), data=PersonRegisteredData(
        structure_id=FT, registered_on=date(2026, 5, 25), birth_year=1979, commune_insee="49007",
        qpv_resident=False, rqth=False, rsa=False, single_parent=False, education_level="4"))


def accepted(referral_id: str) -> ReferralAccepted:
    return ReferralAccepted(id=f"acc-{referral_id}", source=PLIE, subject="p", time=at(date(2026, 6, 1)),
                            data=ReferralAcceptedData(referral_id=referral_id, structure_id=PLIE))


def issued(referral_id: str) -> ReferralIssued:
    return ReferralIssued(id=f"iss-{referral_id}", source=FT, subject="p", time=at(date(2026, 5, 28)),
                          data=ReferralIssuedData(referral_id=referral_id, kind="prescription", from_structure=FT,
                                                  to_structure=PLIE, reason="Prescription",
                                                  due_date=date(2026, 6, 12)))


def holders(*events) -> list[tuple[str, str]]:
    return [(row.state, row.structure) for row in persons_by_state(views(fold(events)))]


def test_an_acceptance_of_a_referral_nobody_sent_leaves_the_person_with_their_referent():
    assert holders(registered(), accepted("rx-unknown")) == [("held", FT)]


def test_an_acceptance_of_a_referral_received_holds_the_person_whatever_the_order():
    assert holders(registered(), issued("rx-1"), accepted("rx-1")) == [("held", PLIE)]
    assert holders(registered(), accepted("rx-1"), issued("rx-1")) == [("held", PLIE)]
