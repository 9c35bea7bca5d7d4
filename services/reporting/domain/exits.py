"""Exits from dispositifs by class, dispositif and structure."""

from __future__ import annotations

from collections import defaultdict

from services.reporting.domain.calendar import Period
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Views

EXIT_CLASSES = ("emploi_durable", "emploi_transition", "sortie_positive", "autre")
RETURN_CLASSES = frozenset({"emploi_durable", "emploi_transition", "sortie_positive"})


class ExitRow(Row):
    dispositif: str
    structure: str
    exit_class: str
    exits: int


def exits(v: Views, period: Period) -> list[ExitRow]:
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for stay in v.stays:
        for e in stay.exits.values():
            if period.holds(e.day):
                counts[(stay.dispositif, e.structure, e.exit_class)] += 1
    return [ExitRow(dispositif=d, structure=s, exit_class=c, exits=n) for (d, s, c), n in sorted(counts.items())]


def exit_classes_by_person(v: Views, period: Period) -> dict[str, list[str]]:
    """The class of every exit in the period, per person (for the cohort and dispositif tables)."""
    out: dict[str, list[str]] = defaultdict(list)
    for stay in v.stays:
        for e in stay.exits.values():
            if period.holds(e.day):
                out[stay.person].append(e.exit_class)
    return out
