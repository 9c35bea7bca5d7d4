"""The Par'Emploi report's three childcare lines, on a story counted by hand.

Par'Emploi finds childcare for five parents in March: two temporary places, two permanent ones and one place
with an assistante maternelle; a sixth parent's childcare is found by the Mission locale itself, outside the
dispositif; a mobility barrier lifted by Par'Emploi counts as a solution, but not as childcare.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from contracts.barriers import BarrierLifted, BarrierLiftedData
from contracts.pathway import DispositifEntered, DispositifEnteredData
from services.reporting.domain.projection import fold
from services.reporting.domain.report import build_report

PARIS = ZoneInfo("Europe/Paris")
PE, ML = "par_emploi_garde", "mission_locale_angevine"


def lifted(person: str, kind: str, solution: str | None, dispositif: str | None = PE):
    return BarrierLifted(id=f"{person}:{kind}:lift", source="aldev_cite_emploi", subject=person,
                         time=datetime.combine(date(2026, 3, 9), time(10), tzinfo=PARIS),
                         data=BarrierLiftedData(barrier_id=f"{person}-{kind}", kind=kind, dispositif_id=dispositif,
                                                structure_id="aldev_cite_emploi", childcare_solution=solution))


def entered(person: str):
    return DispositifEntered(id=f"{person}:in", source="aldev_cite_emploi", subject=person,
                             time=datetime.combine(date(2026, 2, 2), time(10), tzinfo=PARIS),
                             data=DispositifEnteredData(dispositif_id=PE, structure_id="aldev_cite_emploi"))


def test_childcare_solutions_are_counted_by_kind_per_dispositif():
    events = [entered(p) for p in "abcde"] + [
        lifted("a", "garde_enfant", "accueil_temporaire"), lifted("b", "garde_enfant", "accueil_temporaire"),
        lifted("c", "garde_enfant", "accueil_permanent"), lifted("d", "garde_enfant", "accueil_permanent"),
        lifted("e", "garde_enfant", "assistante_maternelle"), lifted("e", "mobilite", None),
        lifted("f", "garde_enfant", None, dispositif=None)]
    [row] = build_report(fold(events))["dispositifs"]
    assert (row["solutions_found"], row["childcare_temporary"], row["childcare_permanent"],
            row["childcare_assistante_maternelle"]) == (6, 2, 2, 1)


def test_a_childcare_solution_belongs_to_a_childcare_barrier_only():
    with pytest.raises(ValidationError, match="garde_enfant"):
        lifted("a", "mobilite", "accueil_permanent")
