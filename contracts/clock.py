"""Time as an event: one tick per day, on which every deadline is decided."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from contracts.envelope import Envelope, Payload, schema_field, type_field
from contracts.topics import CLOCK_KEY

TIMEZONE = "Europe/Paris"
CLOCK_SOURCE = "ariane/clock"


def clock_event_id(day: date) -> str:
    """The id of the tick of a day, "clock-YYYY-MM-DD": a doubled clock makes the same id, so one tick a day."""
    return f"clock-{day.isoformat()}"


class DayStartedData(Payload):
    """A new day started in the territory's time zone: deadlines falling on or before it can be decided."""

    day: date = Field(description="The day that started.", examples=["2025-01-28"])
    timezone: Literal["Europe/Paris"] = Field(default=TIMEZONE, description="Time zone of the day, always "
                                              "Europe/Paris.", examples=[TIMEZONE])


class DayStarted(Envelope):
    """fr.ariane.clock.day_started: a day started. Its id is clock-YYYY-MM-DD and its subject is "clock"."""

    short_type: ClassVar[str] = "clock.day_started"
    type: Literal["fr.ariane.clock.day_started"] = type_field("clock.day_started")
    dataschema: str = schema_field("clock.day_started")
    subject: Literal["clock"] = Field(default=CLOCK_KEY, description="Always \"clock\" (the Kafka key).")
    data: DayStartedData

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, values: Any) -> Any:
        if isinstance(values, dict) and "id" not in values:
            data = values.get("data")
            day = data.get("day") if isinstance(data, dict) else getattr(data, "day", None)
            if isinstance(day, date):
                values = {**values, "id": clock_event_id(day)}
            elif isinstance(day, str):
                values = {**values, "id": f"clock-{day}"}
        return values

    @model_validator(mode="after")
    def _id_is_the_day(self) -> DayStarted:
        if self.id != clock_event_id(self.data.day):
            raise ValueError(f"the id of a clock tick must be {clock_event_id(self.data.day)}")
        return self

    @classmethod
    def for_day(cls, day: date, *, source: str = CLOCK_SOURCE, recordedtime: datetime | None = None) -> DayStarted:
        """The tick of `day`, at midnight Europe/Paris."""
        midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(TIMEZONE))
        return cls(source=source, time=midnight, recordedtime=recordedtime, data=DayStartedData(day=day))
