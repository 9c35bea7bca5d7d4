"""The dispositif report (Par'Emploi style): families followed, single parents (count and per mille),
solutions found (barriers the dispositif lifted, and the childcare ones by kind), returns to job or training."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from services.reporting.domain.calendar import Period
from services.reporting.domain.exits import RETURN_CLASSES
from services.reporting.domain.rows import Row
from services.reporting.domain.views import Stay, Views


class DispositifRow(Row):
    dispositif: str
    families_followed: int
    single_parents: int
    single_parent_permille: int
    solutions_found: int
    childcare_temporary: int  # "solutions d'accueil temporaire"
    childcare_permanent: int  # "solutions d'accueil permanent"
    childcare_assistante_maternelle: int  # "accueils auprès d'assistante maternelle"
    returns_to_job_or_training: int


def permille(part: int, whole: int) -> int:
    return (part * 1000 + whole // 2) // whole if whole else 0


def followed_in(stay: Stay, period: Period, end: str) -> bool:
    """In the dispositif at some time in the period: entered by its end, and not gone before its start
    (no exit, an exit within or after the period, or a new entry after the last exit)."""
    entries = [e.day for e in stay.entries.values()]
    exits = [e.day for e in stay.exits.values()]
    if not entries or (end and min(entries) > end):
        return False
    if period.start is None or not exits:
        return True
    return max(exits) >= period.start.isoformat() or max(entries) > max(exits)


def job_or_training_started(v: Views, period: Period) -> set[str]:
    """People who started a job or a training in the period."""
    return ({j.person for j in v.jobs if j.started and period.holds(j.started.day)}
            | {t.person for t in v.trainings if t.started and period.holds(t.started.day)})


def dispositifs(v: Views, period: Period, end: str, exits_by_person: Mapping[str, list[str]],
                lifted_by_dispositif: Mapping[str, int],
                childcare: Mapping[str, Mapping[str, int]] | None = None) -> list[DispositifRow]:
    childcare = childcare or {}
    followed: dict[str, set[str]] = defaultdict(set)
    for stay in v.stays:
        if followed_in(stay, period, end):
            followed[stay.dispositif].add(stay.person)
    started = job_or_training_started(v, period)
    rows = []
    for dispositif, people in sorted(followed.items()):
        single = sum(1 for p in people if p in v.persons and v.persons[p].attribute("single_parent"))
        returns = sum(1 for p in people if p in started or RETURN_CLASSES & set(exits_by_person.get(p, ())))
        rows.append(DispositifRow(dispositif=dispositif, families_followed=len(people), single_parents=single,
                                  single_parent_permille=permille(single, len(people)),
                                  solutions_found=lifted_by_dispositif.get(dispositif, 0),
                                  childcare_temporary=childcare.get(dispositif, {}).get("accueil_temporaire", 0),
                                  childcare_permanent=childcare.get(dispositif, {}).get("accueil_permanent", 0),
                                  childcare_assistante_maternelle=childcare.get(dispositif, {}).get(
                                      "assistante_maternelle", 0),
                                  returns_to_job_or_training=returns))
    return rows
