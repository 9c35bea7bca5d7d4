"""A counsellor's answer turned into the checkin_done event intake takes, dated on followup's business day."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from contracts.followup import CheckinDone
from services.web.checkin import CheckinForm, checkin_event

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 11, 30, 9, 15, tzinfo=UTC)


def form(**changes: str) -> CheckinForm:
    values = {"event_id": "web-1", "person_id": "p-7f3a", "structure_id": "france_travail_angers_centre",
              "checkin_id": "chk-p-7f3a-job-1", "reached": "oui", "situation": "in_employment", "day": "2026-03-20"}
    return CheckinForm(**{**values, **changes})


def test_a_reached_person_in_employment() -> None:
    event = checkin_event(form(), NOW, PARIS)
    assert isinstance(event, CheckinDone)
    assert event.type == "fr.ariane.followup.checkin_done" and event.id == "web-1"
    assert event.source == event.data.structure_id == "france_travail_angers_centre"
    assert event.subject == "p-7f3a" and event.data.reached and event.data.situation == "in_employment"
    # Followup's day, at the time of day it is now in the territory.
    assert event.time == datetime(2026, 3, 20, 10, 15, tzinfo=PARIS)


def test_not_reached_has_no_situation() -> None:
    event = checkin_event(form(reached="non", situation=""), NOW, PARIS)
    assert isinstance(event, CheckinDone) and not event.data.reached and event.data.situation is None
    assert checkin_event(form(reached="non"), NOW, PARIS) == (
        "Une situation ne peut être indiquée que si la personne a été jointe.")


def test_bad_forms_are_refused_in_french() -> None:
    assert checkin_event(form(reached=""), NOW, PARIS) == "Indiquez si la personne a été jointe."
    assert checkin_event(form(situation="rich"), NOW, PARIS) == "Situation inconnue."
    assert "identifiants invalides" in checkin_event(form(structure_id="Not A Structure"), NOW, PARIS)


def test_without_a_business_day_it_is_now() -> None:
    assert checkin_event(form(day=""), NOW, PARIS).time == NOW
