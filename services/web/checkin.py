"""A counsellor's answer to a check-in, as the partner event intake takes: fr.ariane.followup.checkin_done.

Pure: the form's fields and the time in, the CloudEvent (or a French reason to refuse the form) out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from contracts.followup import CheckinDone, CheckinDoneData
from contracts.vocabulary import CheckinOutcome


@dataclass(frozen=True)
class CheckinForm:
    event_id: str  # drawn when the form was shown: sending the same form twice is one event for intake
    person_id: str
    structure_id: str
    checkin_id: str
    reached: str  # "oui" | "non"
    situation: str  # a CheckinOutcome value, or "" when not reached
    day: str  # followup's business day when the form was shown (ISO), "" if unknown


def business_time(day: str, now: datetime, zone: ZoneInfo) -> datetime:
    """When the check-in was made: the page's business day at the current time of day in the territory.

    Time is an event in Ariane: followup decides on its own day (its last clock tick), not the wall clock. On
    a live territory that day is today and this is simply now; on a replayed or simulated one, an answer dated
    by the wall clock would fall before the check-in was even due, or in a far future."""
    local = now.astimezone(zone)
    try:
        business_day = date.fromisoformat(day)
    except ValueError:
        return local
    return datetime.combine(business_day, local.time(), zone)


def checkin_event(form: CheckinForm, now: datetime, zone: ZoneInfo) -> CheckinDone | str:
    """The event to post, or a French sentence saying what is wrong with the form."""
    if form.reached not in ("oui", "non"):
        return "Indiquez si la personne a été jointe."
    reached = form.reached == "oui"
    if not reached and form.situation:
        return "Une situation ne peut être indiquée que si la personne a été jointe."
    if form.situation and form.situation not in {o.value for o in CheckinOutcome}:
        return "Situation inconnue."
    try:
        return CheckinDone(
            id=form.event_id, source=form.structure_id, subject=form.person_id,
            time=business_time(form.day, now, zone),
            data=CheckinDoneData(checkin_id=form.checkin_id, structure_id=form.structure_id, reached=reached,
                                 situation=CheckinOutcome(form.situation) if form.situation else None))
    except ValidationError:
        return "Cette ligne ne peut pas recevoir de réponse (identifiants invalides) ; rechargez la liste."
