"""Which events intake admits: partner types only, from and about structures the territory knows, acting
only for themselves or for the structures the territory file delegates to them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from contracts.envelope import Envelope
from contracts.events import EVENT_TYPES, PARTNER_TYPES
from contracts.territory import Territory

# Fields of an event's data that name a structure (or, as a target, a dispositif).
STRUCTURE_FIELDS = ("structure_id", "from_structure", "to_structure")
# Of those, the ones naming who acted: the sender itself, or a structure it acts for. `to_structure` is a target.
ACTOR_FIELDS = ("structure_id", "from_structure")


def is_partner_event(event_type: str) -> bool:
    """Partners send only partner events; what Ariane's services emit is never accepted from outside."""
    return event_type in PARTNER_TYPES


def sent_by(event: object, sender: str) -> bool:
    """Whether an event (as received, before any parsing) names its authenticated sender as its `source`: the
    structure of the API key over HTTP, the partner whose own topic it was read from over Kafka. A structure
    never sends in another's name, not even one it acts for (its data may name those, see `foreign_actors`)."""
    return isinstance(event, Mapping) and event.get("source") == sender


def unknown_structures(source: str, named: Sequence[tuple[str, str]], known: frozenset[str],
                       known_targets: frozenset[str]) -> list[str]:
    """Reasons an event names structures the territory does not know (source must be a structure; structure
    fields of the data may also name a dispositif). Fields are named, values never quoted."""
    problems = []
    if source not in known:
        problems.append("source is not a structure of the territory")
    problems += [f"data.{f} is not a structure or dispositif of the territory" for f, s in named
                 if s not in known_targets]
    return problems


def foreign_actors(source: str, named: Sequence[tuple[str, str]], allowed: Mapping[str, frozenset[str]]
                   ) -> list[str]:
    """Actor fields naming a structure the sender may not speak for (itself, the structures it acts for and
    the dispositifs it operates are allowed)."""
    mine = allowed.get(source, frozenset()) | {source}
    return [f"data.{f} names a structure that is not the sender nor one it acts for" for f, s in named
            if f in ACTOR_FIELDS and s not in mine]


@dataclass(frozen=True)
class KnownStructures:
    """The names the territory file gives: structures (who may send), targets (structures or dispositifs), and
    for each structure what else it may act for (its delegations and the dispositifs it operates)."""

    structures: frozenset[str]
    targets: frozenset[str]
    acts_for: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, territory: Territory) -> KnownStructures:
        structures = frozenset(s.id for s in territory.structures)
        acts_for = {s.id: frozenset(s.acts_for) | frozenset(d.id for d in territory.dispositifs
                                                             if d.operator == s.id)
                    for s in territory.structures}
        return cls(structures, structures | frozenset(d.id for d in territory.dispositifs), acts_for)

    @staticmethod
    def _named(event: Envelope) -> list[tuple[str, str]]:
        data = event.data
        return [(f, value) for f in _structure_fields_of(type(data)) if (value := getattr(data, f, None))]

    def problems(self, event: Envelope) -> list[str]:
        return unknown_structures(event.source, self._named(event), self.structures, self.targets)

    def impersonations(self, event: Envelope) -> list[str]:
        return foreign_actors(event.source, self._named(event), self.acts_for)

    def source_label(self, source: object) -> str:
        """A metric label for a source: bounded, so an unknown sender cannot grow the label set."""
        return source if isinstance(source, str) and source in self.structures else "unknown"


_FIELDS_OF: dict[type, tuple[str, ...]] = {}


def _structure_fields_of(payload: type) -> tuple[str, ...]:
    """The STRUCTURE_FIELDS a payload class has (fields or properties), found once per class: asking an instance
    for an attribute it does not have costs pydantic a raised AttributeError each time (payloads refuse extra
    fields, so an instance has no other attribute than its class gives it)."""
    found = _FIELDS_OF.get(payload)
    if found is None:
        fields = getattr(payload, "model_fields", {})
        found = _FIELDS_OF[payload] = tuple(f for f in STRUCTURE_FIELDS if f in fields
                                            or isinstance(getattr(payload, f, None), property))
    return found


def type_label(event_type: object) -> str:
    """A metric or log label for an event type: a known type, else "unknown" (never what was sent)."""
    return event_type if isinstance(event_type, str) and event_type in EVENT_TYPES else "unknown"
