"""What partners learn from Ariane, and how the simulator's placeholders become real references.

Partners know a person by their own file number until intake answers with the person_id; a structure that
receives a referral learns its id from the referral notice; a structure asked for a check-in learns its id
from the check-in notice. The simulator generates its year offline, so its events carry placeholders:

* `subject` is the registering structure's file number (partner_ref); events from any other structure need
  the person_id instead (intake resolves a file number only for the structure that registered it);
* answers to an orientation referral carry `sim-ask-referral-<to_structure>` (scenario.orientation_answer_ref);
* check-ins carry `sim-ask-checkin-<anchor>-<months>-<due date>` (parcours.checkin_ref);
* the coordinator decides an identity review named by the two registrations (year.ReviewDecision): its id is
  on the `identity.review_opened` intake publishes.

`Directory` learns the real values from Ariane's own topics (ariane.intake.v1, ariane.referral.v1,
ariane.followup.v1) or from intake's HTTP answers; `Rewriter` swaps them in just before sending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from contracts.envelope import Envelope

REFERRAL_PLACEHOLDER = "sim-ask-referral-"
CHECKIN_PLACEHOLDER = "sim-ask-checkin-"


@dataclass
class Directory:
    person_by_event: dict[str, str] = field(default_factory=dict)  # registration event id -> person_id
    referrals: dict[tuple[str, str], str] = field(default_factory=dict)  # (person_id, to) -> open orientation
    checkins: dict[tuple[str, str, int, date], str] = field(default_factory=dict)
    reviews: dict[frozenset[str], str] = field(default_factory=dict)  # {person_id, other} -> identity review id

    def learn(self, event: Envelope) -> None:
        """Take what a partner would learn from one event read on an Ariane topic."""
        kind = event.type.removeprefix("fr.ariane.")
        if kind == "person.registered":
            self.person_by_event[event.id] = event.subject
        elif kind == "referral.issued" and str(event.data.kind) == "orientation":
            self.referrals[(event.subject, event.data.to_structure)] = event.data.referral_id
        elif kind == "followup.checkin_due":
            d = event.data
            self.checkins[(event.subject, str(d.anchor), d.months_after, d.due_on)] = d.checkin_id
        elif kind == "identity.review_opened":  # what the coordinator is asked to decide
            self.reviews[frozenset((event.data.person_id, event.data.other_person_id))] = event.data.review_id


class Unresolved(LookupError):
    """A placeholder whose real value Ariane has not published yet."""


@dataclass
class Rewriter:
    """Turns a generated event into the event a partner sends, given what the directory knows."""

    directory: Directory
    registrar: dict[str, tuple[str, str]] = field(default_factory=dict)  # partner_ref -> (structure, event id)

    def prepare(self, event: Envelope) -> Envelope:
        """The event to send; raises Unresolved when a person_id or an id is not known yet."""
        if event.type.endswith("person.registered"):
            self.registrar.setdefault(event.subject, (event.source, event.id))
            return event
        structure, registration = self.registrar.get(event.subject, (None, None))
        data = event.data
        ref = getattr(data, "referral_id", None) or getattr(data, "checkin_id", None)
        placeholder = isinstance(ref, str) and ref.startswith((REFERRAL_PLACEHOLDER, CHECKIN_PLACEHOLDER))
        if event.source == structure and not placeholder:
            return event
        person_id = self.directory.person_by_event.get(registration or "")
        if person_id is None:
            raise Unresolved(f"person_id of {event.subject} (registration {registration}) not known yet")
        update: dict[str, object] = {"subject": person_id}
        if placeholder and ref.startswith(REFERRAL_PLACEHOLDER):
            real = self.directory.referrals.get((person_id, ref.removeprefix(REFERRAL_PLACEHOLDER)))
            if real is None:
                raise Unresolved(f"no orientation referral to {ref.removeprefix(REFERRAL_PLACEHOLDER)} yet")
            update["data"] = data.model_copy(update={"referral_id": real})
        elif placeholder:
            anchor, months, due = ref.removeprefix(CHECKIN_PLACEHOLDER).split("-", 2)
            real = self.directory.checkins.get((person_id, anchor, int(months), date.fromisoformat(due)))
            if real is None:
                raise Unresolved(f"no check-in due for {anchor} +{months} months on {due} yet")
            update["data"] = data.model_copy(update={"checkin_id": real})
        return event.model_copy(update=update)
