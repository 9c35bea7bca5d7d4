"""Quotas over a cohort: which people are single parents, which return to a job or a training, and which
childcare solution the dispositif finds for whom, so that a preset with a seed's table (presets.SeedFigures)
lands on that table exactly instead of near it.

Drawing each person by shares gives 61 families here and 19 returns there; a seed's table is counts, so the
cohort is dealt counts: the number of single parents, of returns and of each kind of childcare solution is
fixed first (scaled to the cohort's size), then a generator seeded by (seed, preset) decides who. A person's
quota therefore depends on how many people the cohort has, unlike the rest of their story.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from contracts.vocabulary import ChildcareSolution

from simulator.people import make_person
from simulator.presets import Preset, SeedFigures

# make_person's youngest single parent: the quota picks single parents among people at least this old.
SINGLE_PARENT_MIN_AGE = 19


@dataclass(frozen=True)
class Quota:
    """What the cohort's quotas decided for one person; the rest of their story is drawn as usual."""

    single_parent: bool
    returns: bool  # starts a job or a training during the year (presets.RETURN_PLOTS)
    childcare: ChildcareSolution | None  # the childcare the dispositif finds for them (None: none found)


def scaled(count: int | float, figures: SeedFigures, people: int) -> int:
    """A count of the seed's table for a cohort of `people`, rounded half up (63 families: the count itself)."""
    return int(count * people / figures.families + 0.5)


def cohort_quotas(seed: int, preset: Preset, people: int, start: date) -> list[Quota] | None:
    """One quota per person of the cohort, or None when the preset has no seed table to land on."""
    figures = preset.seed_figures
    if figures is None:
        return None
    rng = random.Random(f"ariane-sim|{seed}|{preset.name}|cohort")
    adults = [i for i in range(people)
              if make_person(seed, preset, i, start).age_in(start.year) >= SINGLE_PARENT_MIN_AGE]
    single = set(rng.sample(adults, min(len(adults), int(people * figures.single_parent_share + 0.5))))
    order = rng.sample(range(people), people)
    returning = set(order[:scaled(figures.returns, figures, people)])
    # Those who return come first in `order`: a childcare place found is what lets a parent take the job or
    # the training, so they are the first to be given one; the other solutions go to families still searching.
    kinds = [kind for kind, count in figures.childcare for _ in range(scaled(count, figures, people))]
    rng.shuffle(kinds)
    solution = dict(zip(order, kinds))
    return [Quota(single_parent=i in single, returns=i in returning, childcare=solution.get(i))
            for i in range(people)]
