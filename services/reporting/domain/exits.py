"""Exits from dispositifs by class, dispositif and structure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from services.reporting.domain.calendar import Period
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Exit, Stay, Views

EXIT_CLASSES = ("emploi_durable", "emploi_transition", "sortie_positive", "autre")
RETURN_CLASSES = frozenset({"emploi_durable", "emploi_transition", "sortie_positive"})


class ExitRow(Row):
    dispositif: str
    structure: str
    exit_class: str
    exits: int


def counted_exits(stay: Stay) -> Iterable[Exit]:
    """The exits of a stay the report counts: none while the stay has no entry. An exit from a dispositif the
    person was never seen entering (a partner's wrong line, or an entry still on its way) is not an outcome
    yet: followup keeps it waiting for its entry and, if none comes, reports it to its sender (unknown_stay);
    the day the entry arrives, the exit counts, as it would have in order."""
    return stay.exits.values() if stay.entries else ()


def exits(v: Views, period: Period) -> list[ExitRow]:
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for stay in v.stays:
        for e in counted_exits(stay):
            if period.holds(e.day):
                counts[(stay.dispositif, e.structure, e.exit_class)] += 1
    return [ExitRow(dispositif=d, structure=s, exit_class=c, exits=n) for (d, s, c), n in sorted(counts.items())]


def exit_classes_by_person(v: Views, period: Period) -> dict[str, list[str]]:
    """The class of every counted exit in the period, per person (for the cohort and dispositif tables)."""
    out: dict[str, list[str]] = defaultdict(list)
    for stay in v.stays:
        for e in counted_exits(stay):
            if period.holds(e.day):
                out[stay.person].append(e.exit_class)
    return out
