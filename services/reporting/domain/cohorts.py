"""The cohort report (Cité de l'emploi style): per cohort, people followed, months followed, exits by class,
barriers lifted. A person is in several cohorts: all, entry month, under 26, QPV, single parent, RQTH, RSA."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date

from services.reporting.domain.exits import EXIT_CLASSES
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Person, Views

FLAG_COHORTS = (("qpv_resident", "qpv"), ("single_parent", "single_parent"), ("rqth", "rqth"), ("rsa", "rsa"))


class CohortRow(Row):
    dimension: str
    value: str
    persons: int
    months_followed: int
    exit_emploi_durable: int
    exit_emploi_transition: int
    exit_sortie_positive: int
    exit_autre: int
    barriers_lifted: int


def months_between(start: str, stop: str) -> int:
    a, b = date.fromisoformat(start), date.fromisoformat(stop)
    return max(0, (b.year - a.year) * 12 + b.month - a.month - (1 if b.day < a.day else 0))


def cohorts_of(person: Person) -> list[tuple[str, str]]:
    out = [("all", "all")]
    if person.reg:
        out.append(("entry_month", person.reg.day[:7]))
        birth = person.attribute("birth_year")
        if birth is not None:
            out.append(("under_26", "yes" if int(person.reg.day[:4]) - int(birth) < 26 else "no"))
    for name, label in FLAG_COHORTS:
        value = person.attribute(name)
        if value is not None:
            out.append((label, "yes" if value else "no"))
    return out


def cohorts(v: Views, start: str, end: str, exits_by_person: Mapping[str, list[str]],
            lifted_by_person: Mapping[str, int]) -> list[CohortRow]:
    """`start` and `end` are the period's ISO days ("" when open); a person registered after it, or whose case
    closed before it, is not followed in it."""
    rows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pid, person in v.persons.items():
        reg, closed = person.reg, person.closed
        if not reg or (end and reg.day > end):
            continue
        if start and closed and closed.day < start:
            continue  # closed before the period: not followed in it
        stop = min(end, closed.day) if closed else end
        # What the person adds is the same in each of their cohorts: computed once, added to each.
        months = months_between(reg.day, stop) if stop else 0
        exit_columns = [f"exit_{cls}" for cls in exits_by_person.get(pid, ())]
        lifted = lifted_by_person.get(pid, 0)
        for cohort in cohorts_of(person):
            row = rows[cohort]
            row["persons"] += 1
            row["months_followed"] += months
            for column in exit_columns:
                row[column] += 1
            row["barriers_lifted"] += lifted
    return [CohortRow(dimension=dim, value=val, persons=r["persons"], months_followed=r["months_followed"],
                      **{f"exit_{c}": r.get(f"exit_{c}", 0) for c in EXIT_CLASSES},
                      barriers_lifted=r["barriers_lifted"])
            for (dim, val), r in sorted(rows.items())]
