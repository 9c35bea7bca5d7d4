"""The CloudEvents 1.0 envelope (structured JSON mode) shared by every Ariane event."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"
TYPE_PREFIX = "fr.ariane."
SCHEMA_VERSION = 1
SCHEMA_URI_PREFIX = "ariane:contracts/schemas/"


def new_event_id() -> str:
    """A fresh, globally unique event id (the idempotency key)."""
    return str(uuid.uuid4())


def full_type(short_type: str) -> str:
    """The CloudEvents `type` of a short type: "referral.issued" -> "fr.ariane.referral.issued"."""
    return TYPE_PREFIX + short_type


def schema_uri(short_type: str, version: int = SCHEMA_VERSION) -> str:
    """The `dataschema` of an event type: the path of its committed JSON Schema, with its version."""
    return f"{SCHEMA_URI_PREFIX}{short_type}.v{version}.json"


def type_field(short_type: str) -> Any:
    """The `type` field of an event subclass, defaulting to its full type."""
    return Field(default=full_type(short_type), description=f"Event type, always {full_type(short_type)}.")


def schema_field(short_type: str) -> Any:
    """The `dataschema` field of an event subclass, defaulting to its v1 schema path."""
    return Field(
        default=schema_uri(short_type),
        max_length=256,
        description="URI of the JSON Schema of this event (contract and version).",
        examples=[schema_uri(short_type)],
    )


class Payload(BaseModel):
    """Base of every event's `data`: frozen, and strict about unknown fields so typos are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# CloudEvents 1.0 requires these attributes of every event. The models give `id`, `specversion` and `type` a
# default so that Ariane's services can build events tersely, but the published schemas require all four, and
# intake refuses a partner event that lacks one (it never invents an id).
REQUIRED_ATTRIBUTES = ("id", "source", "specversion", "type")


def _require_cloudevents_attributes(schema: dict[str, Any]) -> None:
    if "properties" in schema and all(name in schema["properties"] for name in REQUIRED_ATTRIBUTES):
        schema["required"] = sorted(set(schema.get("required", [])) | set(REQUIRED_ATTRIBUTES),
                                    key=list(schema["properties"]).index)


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes common to every event; subclasses pin `type` and `data`."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True,
                              json_schema_extra=_require_cloudevents_attributes)

    # Short name of the event type without the prefix, e.g. "referral.issued"; set by each subclass.
    short_type: ClassVar[str] = ""

    specversion: str = Field(default=SPECVERSION, description="CloudEvents version, always 1.0.", pattern=r"^1\.0$")
    id: str = Field(
        default_factory=new_event_id,
        min_length=1,
        max_length=128,
        description="Unique id of this event; the idempotency key. Resending the same id is a no-op.",
        examples=["3f0c1d5e-8b1a-4d3e-9a51-0d2b1f7c9e42"],
    )
    source: str = Field(
        min_length=1,
        max_length=128,
        description="The structure or service that emitted the event (a structure id of the territory file, "
        "or 'ariane/<service>').",
        examples=["mission_locale_angers"],
    )
    type: str = Field(max_length=128, description="Event type, fr.ariane.<domain>.<fact>.")
    subject: str = Field(
        min_length=1,
        max_length=128,
        description="The pseudonymous person_id the event is about (the Kafka key). Partners posting to intake "
        "may send their own person reference here; intake replaces it by the person_id.",
    )
    time: datetime = Field(description="When the fact happened (occurred_at), RFC 3339 with offset.")
    # Pinned to its one value: an unbounded string here once let a 1 MiB attribute through to the outbox.
    datacontenttype: Literal["application/json"] = Field(default=DATACONTENTTYPE,
                                                         description="Always application/json.")
    dataschema: str = Field(default="", max_length=256,
                            description="URI of the JSON Schema of `data` (contract and version).")
    correlationid: str | None = Field(
        default=None, max_length=128, description="Id shared by every event of one business flow."
    )
    causationid: str | None = Field(default=None, max_length=128, description="Id of the event that caused this one.")
    recordedtime: datetime | None = Field(
        default=None,
        description="When Ariane recorded the event (set by intake or the emitting service); "
        "replays 'as of' a date ignore events recorded after it.",
    )
    data: Any

    @property
    def event_id(self) -> str:
        return self.id

    @property
    def person_id(self) -> str:
        return self.subject

    @property
    def occurred_at(self) -> datetime:
        return self.time

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode("utf-8")

    def caused(self, event_cls: type["Envelope"], *, source: str, data: Any, event_id: str,
               time: datetime | None = None, subject: str | None = None, recordedtime: datetime | None = None
               ) -> "Envelope":
        """A new event caused by this one: same subject and correlation, causation = this id."""
        return event_cls(
            id=event_id,
            source=source,
            subject=subject or self.subject,
            time=time or self.time,
            correlationid=self.correlationid or self.id,
            causationid=self.id,
            recordedtime=recordedtime,
            data=data,
        )


def utc(dt: datetime) -> datetime:
    """Aware UTC datetime (naive values are taken as UTC)."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
