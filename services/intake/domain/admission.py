"""Which events intake admits: partner types only, from and about structures the territory knows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contracts.envelope import Envelope
from contracts.events import PARTNER_TYPES
from contracts.territory import Territory

# Fields of an event's data that name a structure (or, as a target, a dispositif).
STRUCTURE_FIELDS = ("structure_id", "from_structure", "to_structure")


def is_partner_event(event_type: str) -> bool:
    """Partners send only partner events; what Ariane's services emit is never accepted from outside."""
    return event_type in PARTNER_TYPES


def unknown_structures(source: str, data_structure_ids: Sequence[str], known: frozenset[str],
                       known_targets: frozenset[str]) -> list[str]:
    """Reasons an event names structures the territory does not know (source must be a structure; structure
    fields of the data may also name a dispositif)."""
    problems = []
    if source not in known:
        problems.append(f"source {source!r} is not a structure of the territory")
    problems += [f"structure {s!r} is not known to the territory" for s in data_structure_ids
                 if s not in known_targets]
    return problems


@dataclass(frozen=True)
class KnownStructures:
    """The names the territory file gives: structures (who may send) and targets (structures or dispositifs)."""

    structures: frozenset[str]
    targets: frozenset[str]

    @classmethod
    def of(cls, territory: Territory) -> KnownStructures:
        structures = frozenset(s.id for s in territory.structures)
        return cls(structures, structures | frozenset(d.id for d in territory.dispositifs))

    def problems(self, event: Envelope) -> list[str]:
        named = [getattr(event.data, f) for f in STRUCTURE_FIELDS if getattr(event.data, f, None)]
        return unknown_structures(event.source, named, self.structures, self.targets)

    def source_label(self, source: str) -> str:
        """A metric label for a source: bounded, so an unknown sender cannot grow the label set."""
        return source if source in self.structures else "unknown"
