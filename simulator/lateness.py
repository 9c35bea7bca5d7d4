"""Partners who record late: a share of a person's events is sent days after its own `time` (the day it
happened), as a structure that types its notes in at the end of the week does. Such an event is back-dated
when it arrives, and when it answers a referral it may arrive after the deadline it was dated before.

The person's later events wait behind a late one (a partner sends a file's records in the order they
happened), so every person's events still reach Ariane in their own order; only the day they arrive moves.
The script keeps what happened and when (`events`, by the day each event is dated); `arrival` says on which
day each late event is sent. Drawn from a generator of the person's own, so a preset without lateness keeps
every other draw as it was.
"""

from __future__ import annotations

from simulator.people import rng_for
from simulator.presets import Preset
from simulator.script import PersonScript

# The registration and the barriers identified (the first week) are sent on their day, and so is everything
# before them: they are what the referral service orients the person from, on their own dates. Lateness
# begins after the last of them.
ON_TIME_TYPES = ("person.registered", "barrier.identified")


def late_arrivals(seed: int, preset: Preset, index: int, script: PersonScript, horizon: int) -> dict[str, int]:
    """Event id -> the day it is sent, for the events that arrive after the day they are dated (the last day
    of the year at the latest, so that everything dated within the year reaches Ariane within it)."""
    if preset.late_share <= 0:
        return {}
    rng = rng_for(seed, preset.name, index, "late")
    first_late = 1 + max((n for n, (_d, e) in enumerate(script.events) if e.type.endswith(ON_TIME_TYPES)),
                         default=-1)
    arrival: dict[str, int] = {}
    held_until = 0  # the person's later events wait behind a late one
    for n, (day, event) in enumerate(script.events):
        late = n >= first_late and rng.random() < preset.late_share
        sent = max(day, held_until, day + rng.randint(1, preset.late_max_days) if late else day)
        sent = min(sent, horizon - 1)
        held_until = sent
        if sent > day:
            arrival[event.id] = sent
    return arrival
