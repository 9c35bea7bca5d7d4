"""The demo's Par'Emploi table: the seed's lines next to a report's dispositifs row, with the differences, and
whether every line is within one family or one point."""

from __future__ import annotations

import io

from rich.console import Console

from cli.par_emploi_table import render_seed_table, seed_lines
from contracts.vocabulary import ChildcareSolution
from simulator.presets import SeedFigures

SEED = SeedFigures(families=63, single_parent_share=0.76,
                   childcare=((ChildcareSolution.ACCUEIL_TEMPORAIRE, 15), (ChildcareSolution.ACCUEIL_PERMANENT, 14),
                              (ChildcareSolution.ASSISTANTE_MATERNELLE, 2)),
                   returns=17)
ROW = {"dispositif": "par_emploi_garde", "families_followed": 63, "single_parents": 48, "single_parent_permille": 762,
       "solutions_found": 31, "childcare_temporary": 15, "childcare_permanent": 14,
       "childcare_assistante_maternelle": 2, "returns_to_job_or_training": 17}
OTHER = {**ROW, "dispositif": "plie_parcours", "families_followed": 5}


def _printed(report: dict) -> tuple[bool, list[str]]:
    out = io.StringIO()
    within = render_seed_table(report, "par_emploi_garde", SEED, Console(file=out, width=100))
    return within, out.getvalue().splitlines()


def _cells(lines: list[str], label: str) -> list[str]:
    line = next(text for text in lines if label in text)
    return [cell.strip() for cell in line.strip("│ ").split("│")]


def test_the_report_on_the_seed_prints_each_line_with_its_difference() -> None:
    within, lines = _printed({"dispositifs": [OTHER, ROW]})
    assert within
    assert _cells(lines, "Familles accompagnées") == ["Familles accompagnées", "63", "63", "0"]
    assert _cells(lines, "monoparentalité") == ["dont en situation de monoparentalité", "76 %", "76.2 %", "+0.2 pt"]
    assert _cells(lines, "temporaire") == ["Solutions d'accueil temporaire", "15", "15", "0"]
    assert _cells(lines, "permanent") == ["Solutions d'accueil permanent", "14", "14", "0"]
    assert _cells(lines, "assistante maternelle")[1:] == ["2", "2", "0"]
    assert _cells(lines, "Retours") == ["Retours à l'emploi et à la formation", "17", "17", "0"]
    assert lines[-1] == "within one family and one point of the seed on every line"


def test_a_family_too_many_or_a_point_and_a_half_off_is_said() -> None:
    within, _ = _printed({"dispositifs": [{**ROW, "families_followed": 64, "single_parent_permille": 770}]})
    assert within  # one family, one point: still the seed's table
    within, lines = _printed({"dispositifs": [{**ROW, "returns_to_job_or_training": 19}]})
    assert not within
    assert _cells(lines, "Retours")[1:] == ["17", "19", "+2"]
    within, _ = _printed({"dispositifs": [{**ROW, "single_parent_permille": 745}]})
    assert not within


def test_a_report_without_the_dispositif_shows_zeros_not_the_seed() -> None:
    lines = seed_lines({"dispositifs": [OTHER]}, "par_emploi_garde", SEED)
    assert [line.ariane for line in lines] == [0, 0, 0, 0, 0, 0]
    assert [line.seed for line in lines] == [63, 760, 15, 14, 2, 17]
