"""Every v1 event type, the discriminated union over `type`, and parsing with field-level errors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from contracts import topics
from contracts.barriers import BarrierIdentified, BarrierLifted
from contracts.clock import DayStarted
from contracts.envelope import Envelope
from contracts.followup import (CaseClosed, CheckinDone, CheckinDue, PersonAtRisk, PersonLossCorrected, PersonLost,
                                PersonReengaged)
from contracts.pathway import (
    DispositifEntered,
    DispositifExited,
    JobEnded,
    JobStarted,
    TrainingEnded,
    TrainingStarted,
)
from contracts.caseload import CaseloadTransferred
from contracts.erasure import PersonErased
from contracts.identity import IdentityDisclosed, IdentityReviewDecided, IdentityReviewOpened
from contracts.people import ContactRecorded, PersonIdentitiesMerged, PersonProfileUpdated, PersonRegistered
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralExpired,
    ReferralFirstAppointmentHeld,
    ReferralIssued,
    ReferralRefused,
    ReferralReminderSent,
    ReferralWithdrawn,
)

Event = Annotated[
    Union[
        PersonRegistered,
        PersonProfileUpdated,
        PersonIdentitiesMerged,
        IdentityReviewOpened,
        IdentityReviewDecided,
        IdentityDisclosed,
        PersonErased,
        ContactRecorded,
        CaseloadTransferred,
        BarrierIdentified,
        BarrierLifted,
        ReferralIssued,
        ReferralAcknowledged,
        ReferralAccepted,
        ReferralRefused,
        ReferralExpired,
        ReferralFirstAppointmentHeld,
        ReferralReminderSent,
        ReferralWithdrawn,
        DispositifEntered,
        DispositifExited,
        JobStarted,
        JobEnded,
        TrainingStarted,
        TrainingEnded,
        CheckinDue,
        CheckinDone,
        PersonAtRisk,
        PersonLost,
        PersonReengaged,
        PersonLossCorrected,
        CaseClosed,
        DayStarted,
    ],
    Field(discriminator="type"),
]

EVENT_CLASSES: tuple[type[Envelope], ...] = Event.__origin__.__args__  # type: ignore[attr-defined]
EVENT_TYPES: dict[str, type[Envelope]] = {cls.model_fields["type"].default: cls for cls in EVENT_CLASSES}
BY_SHORT_TYPE: dict[str, type[Envelope]] = {cls.short_type: cls for cls in EVENT_CLASSES}

event_adapter: TypeAdapter[Envelope] = TypeAdapter(Event)

# Which event types partners may send (to intake, over HTTP or on its own ariane.inbound.v1.<structure id>), and which each topic
# carries. A topic has one writer; intake republishes every accepted partner event on ariane.intake.v1.
PARTNER_TYPES: frozenset[str] = frozenset(
    cls.model_fields["type"].default
    for cls in (
        PersonRegistered, PersonProfileUpdated, ContactRecorded, BarrierIdentified, BarrierLifted,
        ReferralIssued, ReferralAcknowledged, ReferralAccepted, ReferralRefused, ReferralFirstAppointmentHeld,
        DispositifEntered, DispositifExited, JobStarted, JobEnded, TrainingStarted, TrainingEnded,
        CheckinDone, CaseClosed, CaseloadTransferred,
    )
)


def _types(*classes: type[Envelope]) -> frozenset[str]:
    return frozenset(cls.model_fields["type"].default for cls in classes)


TOPIC_TYPES: dict[str, frozenset[str]] = {
    topics.INBOUND_CHANNEL: PARTNER_TYPES,
    topics.INTAKE: PARTNER_TYPES | _types(PersonIdentitiesMerged, IdentityReviewOpened, IdentityReviewDecided,
                                          IdentityDisclosed, PersonErased),
    topics.REFERRAL: _types(ReferralIssued, ReferralReminderSent, ReferralExpired, ReferralWithdrawn),
    topics.FOLLOWUP: _types(CheckinDue, PersonAtRisk, PersonLost, PersonReengaged, PersonLossCorrected,
                               CaseClosed),
    topics.CLOCK: _types(DayStarted),
    topics.DEADLETTER: frozenset(),
}


@dataclass(frozen=True)
class FieldError:
    """One problem with an event: where (`data.birth_year`), what, and pydantic's error type.

    Never carries the offending value: it may be a NIR or a name."""

    loc: str
    msg: str
    type: str
    index: int | None = None  # position in a batch (parse_events), None for a single event

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"loc": self.loc, "msg": self.msg, "type": self.type}
        if self.index is not None:
            out["index"] = self.index
        return out


class ContractError(ValueError):
    """An event does not follow its contract; `errors` lists each problem (intake answers them as HTTP 422)."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        shown = "; ".join(
            (f"[{e.index}] " if e.index is not None else "") + f"{e.loc or '(event)'}: {e.msg}" for e in errors[:5]
        )
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{len(errors)} contract error(s): {shown}{more}")

    def as_dicts(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in self.errors]


def _field_errors(exc: ValidationError, raw_type: object, index: int | None = None) -> list[FieldError]:
    out: list[FieldError] = []
    for err in exc.errors(include_input=False, include_url=False):
        kind = err["type"]
        loc = list(err["loc"])
        if kind == "union_tag_not_found":
            out.append(FieldError("type", "Field required: the event type", "missing", index))
            continue
        if kind == "union_tag_invalid":
            out.append(FieldError("type", f"Unknown event type {str(raw_type)[:100]!r}", "unknown_event_type", index))
            continue
        if loc and isinstance(loc[0], str) and loc[0] in EVENT_TYPES:
            loc = loc[1:]  # drop the discriminator tag pydantic puts first
        if kind == "model_attributes_type" or kind == "model_type":
            kind, msg = "model_type", "Must be a JSON object"
        else:
            msg = err["msg"]
        out.append(FieldError(".".join(str(p) for p in loc), msg, kind, index))
    return out


def _as_mapping(raw: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError([FieldError("", f"Invalid JSON: {exc.__class__.__name__}", "json_invalid")]) from None
    if not isinstance(value, dict):
        raise ContractError([FieldError("", "An event must be a JSON object", "model_type")])
    return value


def parse_event(raw: bytes | str | Mapping[str, Any]) -> Envelope:
    """Parse and validate one event (JSON bytes, JSON text or a dict) into its model.

    Raises ContractError with one FieldError per problem, located as "data.birth_year"."""
    value = _as_mapping(raw)
    try:
        return event_adapter.validate_python(value)
    except ValidationError as exc:
        raise ContractError(_field_errors(exc, value.get("type"))) from None


def parse_events(raws: Iterable[bytes | str | Mapping[str, Any]]) -> list[Envelope]:
    """Parse a batch; all or nothing. Raises ContractError listing every problem with its `index`."""
    events: list[Envelope] = []
    errors: list[FieldError] = []
    for index, raw in enumerate(raws):
        try:
            events.append(parse_event(raw))
        except ContractError as exc:
            errors.extend(FieldError(e.loc, e.msg, e.type, index) for e in exc.errors)
    if errors:
        raise ContractError(errors)
    return events
