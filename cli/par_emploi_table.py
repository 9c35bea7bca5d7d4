"""The Par'Emploi table as its seed publishes it, next to the same lines from reporting's report: seed column,
Ariane column, difference. `ariane demo --preset par-emploi` prints it after the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from contracts.vocabulary import ChildcareSolution
from simulator.presets import SeedFigures

# The seed's lines, in its order and words, with the dispositifs table's column for each kind of childcare.
CHILDCARE_LINES = ((ChildcareSolution.ACCUEIL_TEMPORAIRE, "Solutions d'accueil temporaire", "childcare_temporary"),
                   (ChildcareSolution.ACCUEIL_PERMANENT, "Solutions d'accueil permanent", "childcare_permanent"),
                   (ChildcareSolution.ASSISTANTE_MATERNELLE, "Accueils auprès d'assistante maternelle",
                    "childcare_assistante_maternelle"))
# How far Ariane may be from the seed: one family on a count, one point on a share.
TOLERANCE_COUNT, TOLERANCE_PERMILLE = 1, 10


@dataclass(frozen=True)
class Line:
    label: str
    seed: int  # a count, or a share in per mille when `share`
    ariane: int
    share: bool = False

    @property
    def difference(self) -> int:
        return self.ariane - self.seed

    @property
    def within(self) -> bool:
        return abs(self.difference) <= (TOLERANCE_PERMILLE if self.share else TOLERANCE_COUNT)


def dispositif_row(report: Mapping[str, Any], dispositif: str) -> Mapping[str, Any]:
    """The report's dispositifs row of `dispositif`, or an empty one when nobody was followed in it."""
    return next((row for row in report.get("dispositifs", []) if row["dispositif"] == dispositif), {})


def seed_lines(report: Mapping[str, Any], dispositif: str, seed: SeedFigures) -> list[Line]:
    """The seed's table and the report's figures for the same lines (the report in its JSON form)."""
    row = dispositif_row(report, dispositif)
    published = dict(seed.childcare)
    return [Line("Familles accompagnées", seed.families, row.get("families_followed", 0)),
            Line("dont en situation de monoparentalité", round(seed.single_parent_share * 1000),
                 row.get("single_parent_permille", 0), share=True),
            *(Line(label, published.get(kind, 0), row.get(column, 0)) for kind, label, column in CHILDCARE_LINES),
            Line("Retours à l'emploi et à la formation", seed.returns, row.get("returns_to_job_or_training", 0))]


def _value(line: Line, value: int) -> str:
    return f"{value / 10:g} %" if line.share else str(value)


def _difference(line: Line) -> str:
    if not line.difference:
        return "0"
    return f"{line.difference / 10:+g} pt" if line.share else f"{line.difference:+d}"


def render_seed_table(report: Mapping[str, Any], dispositif: str, seed: SeedFigures,
                      console: Console | None = None) -> bool:
    """Print the table; True when every line is within one family or one point of the seed."""
    console = console or Console()
    lines = seed_lines(report, dispositif, seed)
    table = Table(title=f"Par'Emploi ({dispositif}): the seed and Ariane", title_justify="left")
    for name, justify in (("", "left"), ("seed", "right"), ("Ariane", "right"), ("difference", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for line in lines:
        table.add_row(line.label, _value(line, line.seed), _value(line, line.ariane),
                      _difference(line) if line.within else f"[red]{_difference(line)}[/red]")
    console.print(table)
    within = all(line.within for line in lines)
    console.print("within one family and one point of the seed on every line" if within else
                  "[red]not within one family and one point of the seed[/red]")
    return within
