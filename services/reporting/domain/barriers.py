"""Barriers (freins périphériques) identified per kind, lifted per kind and dispositif."""

from __future__ import annotations

from collections import defaultdict

from services.reporting.domain.calendar import Period
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Barrier, Views


class BarrierRow(Row):
    kind: str
    dispositif: str  # "" for identifications, and for lifts by no dispositif
    identified: int
    lifted: int


def _kind(b: Barrier) -> str:
    return (b.identified or b.lifted).kind


def barriers(v: Views, period: Period) -> list[BarrierRow]:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"identified": 0, "lifted": 0})
    for b in v.barriers:
        if b.identified and period.holds(b.identified.day):
            counts[(_kind(b), "")]["identified"] += 1
        if b.lifted and period.holds(b.lifted.day):
            counts[(_kind(b), b.lifted.dispositif)]["lifted"] += 1
    return [BarrierRow(kind=k, dispositif=d, **c) for (k, d), c in sorted(counts.items())]


def _lifted_in(v: Views, period: Period) -> list[Barrier]:
    return [b for b in v.barriers if b.lifted and period.holds(b.lifted.day)]


def lifted_by_person(v: Views, period: Period) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for b in _lifted_in(v, period):
        out[b.person] += 1
    return out


def lifted_by_dispositif(v: Views, period: Period) -> dict[str, int]:
    """Solutions found: barriers each dispositif lifted in the period."""
    out: dict[str, int] = defaultdict(int)
    for b in _lifted_in(v, period):
        if b.lifted.dispositif:
            out[b.lifted.dispositif] += 1
    return out


def childcare_by_dispositif(v: Views, period: Period) -> dict[str, dict[str, int]]:
    """Childcare solutions each dispositif found in the period, by kind (temporary, permanent, assistante
    maternelle): the Par'Emploi report's three lines."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b in _lifted_in(v, period):
        if b.lifted.dispositif and b.lifted.solution:
            out[b.lifted.dispositif][b.lifted.solution] += 1
    return out
