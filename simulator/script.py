"""A person's script: the partner events of their year as data, and the writer that collects them in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contracts.envelope import Envelope

from simulator.people import SimPerson
from simulator.presets import Preset
from simulator.told import Told

PRESET_CODES = {"cite-emploi-angers": "ce", "par-emploi": "pe", "territory": "te"}


@dataclass(frozen=True)
class PredictedReferral:
    """An orientation referral the referral service will issue (not in the partner stream), and its answer."""

    referral_id: str
    rule: str
    from_structure: str
    to_structure: str
    dispositif_id: str | None
    issued_day: int
    due_day: int
    answer: str


@dataclass
class PersonScript:
    person: SimPerson
    partner_ref: str
    referent: str
    route: str | None
    plot: str
    orientations: list[PredictedReferral] = field(default_factory=list)
    # (day, step, event class, source, data, subject); turned into envelopes by ScriptWriter.finish
    raw: list[tuple[int, int, type[Envelope], str, Any, str | None]] = field(default_factory=list)
    events: list[tuple[int, Envelope]] = field(default_factory=list)  # by the day each event is dated
    arrival: dict[str, int] = field(default_factory=dict)  # event id -> day sent, for the late ones (lateness.py)
    told: Told = field(default_factory=Told)  # what the story decided, recorded as it was scripted (told.py)
    # Another person with a close name, born the same day, whom the story registers too (duplicates.py)
    other: PersonScript | None = None


def person_of_event_id(event_id: str) -> str:
    """The simulated person an event id belongs to (ids are `<seed+preset>-<person>-<step>`, see ScriptWriter)."""
    return event_id.rsplit("-", 1)[0]


class ScriptWriter:
    """Collects a person's events; days past the horizon are dropped (they happen after the simulated year)."""

    def __init__(self, seed: int, preset: Preset, script: PersonScript, start: date, horizon: int, zone: ZoneInfo):
        self.prefix = f"s{seed}{PRESET_CODES.get(preset.name, 'xx')}-{script.person.key}"
        self.script, self.start, self.horizon, self.zone = script, start, horizon, zone
        self.step = 0

    def next_id(self) -> str:
        return f"{self.prefix}-{self.step:03d}"

    def emit(self, day: int, cls: type[Envelope], source: str, data: Any, subject: str | None = None) -> str:
        """`subject`: the file number the event is about when it is not the person's own (a second file)."""
        event_id = self.next_id()
        self.step += 1
        if 0 <= day < self.horizon:
            self.script.raw.append((day, self.step - 1, cls, source, data, subject))
        return event_id

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    def finish(self) -> None:
        """Events in day order, each at 09:00 local time plus a minute per event of the person's day, ids by
        step."""
        self.script.raw.sort(key=lambda r: (r[0], r[1]))
        per_day: dict[int, int] = {}
        for day, step, cls, source, data, subject in self.script.raw:
            rank = per_day.get(day, 0)
            per_day[day] = rank + 1
            when = datetime.combine(self.day(day), time(9), tzinfo=self.zone) + timedelta(minutes=rank)
            self.script.events.append((day, cls(id=f"{self.prefix}-{step:03d}", source=source,
                                                subject=subject or self.script.partner_ref, time=when,
                                                data=data)))
