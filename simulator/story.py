"""One person's story while it is scripted: what the earlier steps decided, which the later ones read.

Every step draws from the person's own generator in turn, so the steps must run in story order: reordering two
draws changes the script of everyone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from contracts.envelope import Envelope
from contracts.people import ContactRecorded, ContactRecordedData
from contracts.territory import Dispositif, Territory
from contracts.vocabulary import BarrierKind, ContactChannel

from simulator.people import SimPerson
from simulator.presets import Preset
from simulator.quotas import Quota
from simulator.script import PersonScript, ScriptWriter
from simulator.told import Told


# Partner events that show someone saw the person that day (contacts and check-ins only when they reached them).
SEEN = frozenset({"ContactRecorded", "CheckinDone", "BarrierIdentified", "BarrierLifted", "ReferralAccepted",
                  "ReferralFirstAppointmentHeld", "DispositifEntered", "DispositifExited", "JobStarted",
                  "TrainingStarted"})


# Kinds of dispositif in which the person works or trains (the IAE: the SIAE employs them): being out of touch
# there is no sign. In every other dispositif the operator accompanies the person and keeps in touch.
WORK_OR_TRAINING = frozenset({"iae", "formation"})


class MainReferral(NamedTuple):
    """The referral through which the person is meant to enter their dispositif, and how it will be answered."""

    issued: int
    referral_id: str
    answer: str


class Anchor(NamedTuple):
    """A job or an exit after which followup asks for check-ins, for up to `months` months."""

    kind: str
    day: int
    structure: str
    months: int


@dataclass
class Story:
    rng: random.Random
    out: ScriptWriter
    script: PersonScript
    preset: Preset
    territory: Territory
    start: date
    horizon: int
    quota: Quota | None = None  # what the cohort's quotas decided for the person (presets with a seed table)
    registered: int = 0
    barrier_ids: dict[BarrierKind, str] = field(default_factory=dict)
    dispositif: Dispositif | None = None
    main: MainReferral | None = None
    entry: int | None = None  # the day the person enters the dispositif, if they do
    plot_day: int = 0
    last_contact: int = 0
    closed_on: int | None = None
    # The référent accompanies the person (it contacts them, or a referral it sent was refused): its hold
    # outlasts a job or a dispositif, so only a silence can lose the person then.
    referent_accompanies: bool = False
    anchors: list[Anchor] = field(default_factory=list)
    unreachable: list[tuple[int, int]] = field(default_factory=list)  # when check-ins cannot reach the person

    @property
    def person(self) -> SimPerson:
        return self.script.person

    @property
    def referent(self) -> str:
        return self.script.referent

    @property
    def partner_ref(self) -> str:
        return self.script.partner_ref

    @property
    def operator(self) -> str | None:
        return self.dispositif.operator if self.dispositif else None

    @property
    def in_dispositif(self) -> bool:
        return self.entry is not None

    @property
    def silence_counts(self) -> bool:
        """Whether the person would be lost by a silence now: not in a dispositif where they work or train."""
        return not (self.in_dispositif and self.dispositif and self.dispositif.kind in WORK_OR_TRAINING)

    @property
    def holder(self) -> str:
        """The structure that holds the person: the dispositif's operator once entered, else the référent."""
        return self.operator if self.in_dispositif and self.operator else self.referent

    def emit(self, day: int, cls: type[Envelope], source: str, data: Any, subject: str | None = None) -> str:
        if 0 <= day < self.horizon and cls.__name__ in SEEN and getattr(data, "reached", True):
            self.told.seen.append(day)
        return self.out.emit(day, cls, source, data, subject)

    def day(self, offset: int) -> date:
        return self.out.day(offset)

    @property
    def told(self) -> Told:
        return self.script.told

    def contacts(self, first: int, last: int, by: str, *, picks_up: bool = False) -> int:
        """Contacts every 20 to 40 days after `first` until `last` (exclusive); the last one's day. With
        `picks_up`, the first contact that reaches the person is when `by` takes them on (recorded)."""
        rng = self.rng
        day, latest = first + rng.randint(20, 40), first
        while day < last:
            if rng.random() < 0.1:  # an unanswered call, answered the next day
                self.emit(day, ContactRecorded, by, ContactRecordedData(
                    structure_id=by, channel=ContactChannel.PHONE, reached=False))
                day += 1
            self.emit(day, ContactRecorded, by, ContactRecordedData(
                structure_id=by, channel=rng.choice(list(ContactChannel)), reached=True))
            if picks_up:
                self.told.hold(day, by)
                self.told.referent_accompanies(by, day)
                picks_up = False
            latest = day
            day += rng.randint(20, 40)
        return latest
