"""The projection's documents: small dicts of named rows, each field with a join policy.

A document (`person:<id>`, `referral:<id>`, `barrier:<id>`, `stay:<person>:<dispositif>`, `job:<id>`,
`training:<id>`, `transfer:<transfer id>:<person>`, `alias:<merged id>`, `clock:day`) maps field names to a plain value, a row, or a map of
rows keyed by event id (or deadline, or profile field). Rows are named tuples: fields are read by name, a
row compares as its values in order (time, event id, ...), which is what the join's min and max need, and it
is stored as a JSON array, the documents' stored shape.

A join is commutative, associative and idempotent, so the state does not depend on the order events arrive
in (topics interleave differently live and in a replay), nor on an event being seen twice. That is what
makes a replay give the live service's figures exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple


class Dated(NamedTuple):
    """A fact known only by when it happened: a first referral, an acknowledgement, a first appointment."""

    time: str
    event_id: str
    day: str


class Registration(NamedTuple):
    time: str
    event_id: str
    day: str  # the registration date the partner gave
    structure: str


class Attribute(NamedTuple):
    """One profile field, as of one event."""

    time: str
    event_id: str
    value: Any


class Holding(NamedTuple):
    """The structure holding the person since that event."""

    time: str
    event_id: str
    structure: str


class LostEpisode(NamedTuple):  # keyed by event id
    time: str
    day: str  # detected on
    reason: str
    structure: str  # the structure that must act


class Reengagement(NamedTuple):  # keyed by event id
    time: str
    day: str
    structure: str


class Closure(NamedTuple):
    time: str
    event_id: str
    day: str
    reason: str


class Issued(NamedTuple):
    time: str
    event_id: str
    day: str
    kind: str
    from_structure: str
    to_structure: str
    dispositif: str  # "" when none
    due_date: str


class Accepted(NamedTuple):
    time: str
    event_id: str
    day: str
    structure: str


class Refused(NamedTuple):
    time: str
    event_id: str
    day: str
    reason: str


class Expiry(NamedTuple):  # keyed by deadline
    time: str
    event_id: str
    day: str
    structure: str


class Identified(NamedTuple):
    time: str
    event_id: str
    day: str
    kind: str
    impact: str
    structure: str


class Lifted(NamedTuple):
    time: str
    event_id: str
    day: str
    kind: str
    dispositif: str  # "" when none
    structure: str
    solution: str = ""  # the childcare found, for garde_enfant ("" when not said; older documents have none)


class Entry(NamedTuple):  # keyed by event id
    time: str
    day: str
    structure: str


class Exit(NamedTuple):  # keyed by event id
    time: str
    day: str
    exit_class: str
    structure: str
    next_step: str  # "" when none


class JobStart(NamedTuple):
    time: str
    event_id: str
    day: str
    contract_type: str
    structure: str  # "" when none


class JobEnd(NamedTuple):
    time: str
    event_id: str
    day: str
    reason: str


class TrainingStart(NamedTuple):
    time: str
    event_id: str
    day: str
    qualifying: bool
    structure: str


class TrainingEnd(NamedTuple):
    time: str
    event_id: str
    day: str
    completed: bool
    qualifying: bool


class Moved(NamedTuple):
    """A person handed over by a caseload transfer (document `transfer:<transfer id>:<person>`)."""

    time: str
    event_id: str
    day: str  # the day it takes effect
    from_structure: str
    to_structure: str
    reason: str
    transfer_id: str


class Kept(NamedTuple):
    """The person an identity was merged into."""

    time: str
    event_id: str
    person: str


Doc = dict[str, Any]
State = dict[str, Doc]  # document key -> document
Patch = tuple[str, Doc]  # (document key, fields to join into it)


class Join(Enum):
    """How a field joins. MIN/MAX compare rows, whose first items are the event time and id, so ties are
    broken by the event id and never by arrival order. MAP unions keyed entries (the earliest wins a key);
    MAP_MAX likewise, the latest winning."""

    MIN = "min"
    MAX = "max"
    MAP = "map"
    MAP_MAX = "map_max"

    @property
    def keyed(self) -> bool:
        return self in (Join.MAP, Join.MAP_MAX)


@dataclass(frozen=True)
class Field:
    join: Join
    row: type[tuple] | None = None  # None: a plain value


FIELDS: dict[str, Field] = {
    "kind": Field(Join.MIN), "person": Field(Join.MIN), "dispositif": Field(Join.MIN),
    "reg": Field(Join.MIN, Registration), "attr": Field(Join.MAP_MAX, Attribute), "holder": Field(Join.MAX, Holding),
    "lost": Field(Join.MAP, LostEpisode), "reeng": Field(Join.MAP, Reengagement),
    "corrected": Field(Join.MAP, Reengagement), "withdrawn": Field(Join.MIN, Dated), "closed": Field(Join.MAX, Closure),
    "first_ref": Field(Join.MIN, Dated),
    "issued": Field(Join.MIN, Issued), "ack": Field(Join.MIN, Dated), "accepted": Field(Join.MIN, Accepted),
    "refused": Field(Join.MIN, Refused), "expired": Field(Join.MAP, Expiry), "appt": Field(Join.MIN, Dated),
    "identified": Field(Join.MIN, Identified), "lifted": Field(Join.MIN, Lifted),
    "entries": Field(Join.MAP, Entry), "exits": Field(Join.MAP, Exit),
    "job_started": Field(Join.MIN, JobStart), "job_ended": Field(Join.MIN, JobEnd),
    "trn_started": Field(Join.MIN, TrainingStart), "trn_ended": Field(Join.MIN, TrainingEnd),
    "kept": Field(Join.MIN, Kept), "day": Field(Join.MAX), "moved": Field(Join.MIN, Moved),
}


def join_value(policy: Join, old: Any, new: Any) -> Any:
    """One field's join (the replay's in-place fold joins field by field)."""
    if old is None:
        return new
    if new is None:
        return old
    if policy is Join.MIN:
        return min(old, new)
    if policy is Join.MAX:
        return max(old, new)
    merged = dict(old)
    for key, value in new.items():
        if key not in merged:
            merged[key] = value
        elif policy is Join.MAP_MAX:
            merged[key] = max(merged[key], value)
        else:
            merged[key] = min(merged[key], value)
    return merged


def join(doc: Doc | None, patch: Mapping[str, Any]) -> Doc:
    """The least document holding both: the fold's only operation."""
    out = dict(doc or {})
    for name, value in patch.items():
        out[name] = join_value(FIELDS[name].join, out.get(name), value)
    return out


def _typed(spec: Field, value: Any) -> Any:
    if spec.row is None:
        return value
    if spec.join.keyed:
        return {key: spec.row(*entry) for key, entry in value.items()}
    return spec.row(*value)


def typed(stored: Mapping[str, Any]) -> Doc:
    """A document as stored (JSON: rows as arrays) back to named rows."""
    return {name: _typed(FIELDS[name], value) for name, value in stored.items()}
