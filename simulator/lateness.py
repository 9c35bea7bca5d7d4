"""Partners who record late: a share of a person's events is sent days after its own `time` (the day it
happened), as a structure that types its notes in at the end of the week does. Such an event is back-dated
when it arrives, and when it answers a referral it may arrive after the deadline it was dated before.

With `late_share`, the person's later events wait behind a late one (a partner sends a file's records in the
order they happened), so every person's events still reach Ariane in their own order; only the day they arrive
moves. With `out_of_order_share`, the late event is overtaken: the person's later events (from the same
structure or another) are sent on their own days, before it, so Ariane receives an exit before its entry, a
job's end before its start, an answer before its prescription (partner stories 42 to 44). The script keeps what
happened and when (`events`, by the day each event is dated); `arrival` says on which day each late event is
sent. Each knob draws from a generator of the person's own, so a preset without it keeps every other draw as it
was.
"""

from __future__ import annotations

from simulator.people import rng_for
from simulator.presets import Preset
from simulator.script import PersonScript

# The registration and the barriers identified (the first week) are sent on their day, and so is everything
# before them: they are what the referral service orients the person from, on their own dates. So are the
# events about a second file (a near-duplicate registration and the answer to the referral it causes,
# duplicates.py): the coordinator's decision follows them within days. Lateness begins after the last of them.
ON_TIME_TYPES = ("person.registered", "barrier.identified")


def late_arrivals(seed: int, preset: Preset, index: int, script: PersonScript, horizon: int) -> dict[str, int]:
    """Event id -> the day it is sent, for the events that arrive after the day they are dated (the last day
    of the year at the latest, so that everything dated within the year reaches Ariane within it)."""
    if preset.late_share <= 0 and preset.out_of_order_share <= 0:
        return {}
    rng = rng_for(seed, preset.name, index, "late")
    overtaken = rng_for(seed, preset.name, index, "out of order")
    first_late = 1 + max((n for n, (_d, e) in enumerate(script.events)
                          if e.type.endswith(ON_TIME_TYPES) or e.subject != script.partner_ref), default=-1)
    arrival: dict[str, int] = {}
    held_until = 0  # the person's later events wait behind a late one (not behind an overtaken one)
    for n, (day, event) in enumerate(script.events):
        late = n >= first_late and preset.late_share > 0 and rng.random() < preset.late_share
        sent = max(day, held_until, day + rng.randint(1, preset.late_max_days) if late else day)
        if n >= first_late and preset.out_of_order_share > 0 and overtaken.random() < preset.out_of_order_share:
            # Recorded late, and the partner's later records go out before it: nothing waits behind it.
            sent = min(max(sent, day + overtaken.randint(1, preset.late_max_days)), horizon - 1)
            if sent > day:
                arrival[event.id] = sent
            continue
        sent = min(sent, horizon - 1)
        held_until = sent
        if sent > day:
            arrival[event.id] = sent
    return arrival
