"""Presets: how many people a simulated year has, what they are like, and what becomes of them.

The shares come from the seeds: the Cité de l'emploi of Angers follows about 90 residents of the quartiers
prioritaires a year, a full year even once employed. Par'Emploi's seed publishes a table of counts (63 families,
76% of them single parents, all with a childcare barrier; 15 temporary and 14 permanent childcare solutions and 2
with an assistante maternelle; 17 returns to a job or a training): its preset draws those by quotas over the
cohort (quotas.py) so that the year lands on the table, not near it. The `territory` preset is a realistic mix
at any size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.vocabulary import ChildcareSolution

# What becomes of a person once their route is set (see plots.py for each plot's events).
PLOTS: tuple[str, ...] = (
    "job_lasting",  # lasting job (CDI, CDD or interim >= 6 months, creation, alternance): held by the job
    "job_short_held",  # short job; when it ends the structure takes the person up again at once
    "job_short_lost",  # short job; when it ends nobody takes them up: lost, reason job_ended_unheld
    "training",  # qualifying training, then a lasting job
    "stays",  # stays accompanied all year, contacted regularly
    "exit_none",  # leaves the dispositif with no next step: lost, reason exit_without_next_step
    "silent",  # stops answering; no contact any more: lost, reason no_contact
    "moved_away",  # moves away: case closed
    "refused_support",  # refuses support: case closed
)
# Besides the plots drawn, "referral_unanswered": the main referral is never answered and nobody follows the
# person meanwhile (half of the "never" answers); they are lost when the referral expires.
LOST_PLOTS = frozenset({"job_short_lost", "exit_none", "silent", "referral_unanswered"})
# The plots in which the person starts a job or a training: a "retour à l'emploi ou à la formation".
RETURN_PLOTS = frozenset({"job_lasting", "job_short_held", "job_short_lost", "training"})

# How a structure answers a referral: in time, after the accept deadline, refusing, or never.
ANSWERS: tuple[str, ...] = ("on_time", "late", "refused", "never")


@dataclass(frozen=True)
class SeedFigures:
    """A table a seed publishes, which the preset reproduces exactly by quotas instead of drawing by shares
    (for a cohort of another size than `families`, every count scales with it)."""

    families: int
    single_parent_share: float
    childcare: tuple[tuple[ChildcareSolution, int], ...]  # solutions found by the dispositif, by kind
    returns: int  # families who start a job or a training


@dataclass(frozen=True)
class Preset:
    name: str
    default_people: int
    description: str
    share_under_26: float
    share_rqth: float
    share_rsa: float
    share_qpv: float
    share_single_parent: float
    share_childcare_barrier: float = 0.08  # besides single parents routed to childcare
    registration_window_days: int = 150  # registrations are spread over the first days of the year
    plots: dict[str, float] = field(default_factory=dict)
    answers: dict[str, float] = field(default_factory=dict)
    reengage_share: float = 0.4  # lost people found again by the structure that had to act
    prescription_share: float = 0.35  # people without an orientation route prescribed a dispositif by their referent
    # Which dispositif every person is routed to regardless of their profile (None: by profile).
    forced_route: str | None = None
    # A seed's table to land on exactly (None: every person is drawn by the shares alone).
    seed_figures: SeedFigures | None = None
    # Partners who record late (lateness.py): this share of a person's events (after their first week) is sent
    # 1 to late_max_days days after the day it is dated; 0: every event is sent on its day.
    late_share: float = 0.0
    late_max_days: int = 10
    # Events in the wrong order (lateness.py): this share of a person's events (after their first week) is recorded
    # 1 to late_max_days days late *without* holding back the person's following events, which overtake it (an
    # exit sent before its entry, a job's end before its start, an answer before its prescription); 0: none.
    out_of_order_share: float = 0.0
    # Near-duplicate identities (duplicates.py): this share of people is registered a second time by another
    # structure, with a spelling variant of their last name and no NIR, so that intake opens an identity review
    # the coordinator decides; among them, `near_duplicate_other_share` are in fact another person with a close
    # name, born the same day (the coordinator decides "different people"); the rest the same person.
    near_duplicate_share: float = 0.0
    near_duplicate_other_share: float = 0.3


CITE_EMPLOI = Preset(
    name="cite-emploi-angers",
    default_people=90,
    description="90 residents of the quartiers prioritaires followed by the Cité de l'emploi for a year",
    share_under_26=0.25, share_rqth=0.06, share_rsa=0.3, share_qpv=1.0, share_single_parent=0.15,
    share_childcare_barrier=0.0,
    registration_window_days=60,
    plots={"job_lasting": 0.3, "job_short_held": 0.15, "job_short_lost": 0.04, "training": 0.14, "stays": 0.22,
           "exit_none": 0.06, "silent": 0.04, "moved_away": 0.03, "refused_support": 0.02},
    answers={"on_time": 0.85, "late": 0.1, "refused": 0.0, "never": 0.05},
    forced_route="cite_emploi_angers",
)

# "En 2024 [...] 63 familles, dont 76% en situation de monoparentalité [...] 15 solutions d'accueil temporaire,
# 14 solutions d'accueil permanent, 2 accueils auprès d'assistante maternelle. Et ce pour 17 retours à l'emploi
# et à la formation." (the Cité de l'emploi's page on Par'Emploi)
PAR_EMPLOI_SEED = SeedFigures(
    families=63, single_parent_share=0.76,
    childcare=((ChildcareSolution.ACCUEIL_TEMPORAIRE, 15), (ChildcareSolution.ACCUEIL_PERMANENT, 14),
               (ChildcareSolution.ASSISTANTE_MATERNELLE, 2)),
    returns=17,
)

PAR_EMPLOI = Preset(
    name="par-emploi",
    default_people=63,
    description="63 families accompanied by Par'Emploi for childcare, 76% single parents, 31 childcare solutions, "
                "17 returns to a job or a training",
    share_under_26=0.15, share_rqth=0.03, share_rsa=0.45, share_qpv=0.0, share_single_parent=0.76,
    share_childcare_barrier=1.0,
    registration_window_days=90,
    # Among the 17 who return (RETURN_PLOTS) and the 46 who do not, the plot is drawn by these weights.
    plots={"job_lasting": 0.14, "job_short_held": 0.06, "job_short_lost": 0.02, "training": 0.07, "stays": 0.55,
           "exit_none": 0.08, "silent": 0.05, "moved_away": 0.02, "refused_support": 0.01},
    # Every family of the table was accompanied: Par'Emploi answers each referral, sometimes after the deadline.
    answers={"on_time": 0.85, "late": 0.15, "refused": 0.0, "never": 0.0},
    forced_route="par_emploi_garde",
    seed_figures=PAR_EMPLOI_SEED,
)

TERRITORY = Preset(
    name="territory",
    default_people=1000,
    description="a realistic mix of jobseekers across every structure of the territory",
    share_under_26=0.2, share_rqth=0.08, share_rsa=0.15, share_qpv=0.25, share_single_parent=0.1,
    plots={"job_lasting": 0.22, "job_short_held": 0.12, "job_short_lost": 0.05, "training": 0.1, "stays": 0.3,
           "exit_none": 0.07, "silent": 0.06, "moved_away": 0.05, "refused_support": 0.03},
    answers={"on_time": 0.7, "late": 0.12, "refused": 0.08, "never": 0.1},
)

# The territory's mix at the scale of a large département: 100,000 people over a year (benchmarks, long tests).
SCALE = Preset(
    name="scale",
    default_people=100_000,
    description="the territory's mix at the scale of a large département: 100,000 people over a year",
    share_under_26=TERRITORY.share_under_26, share_rqth=TERRITORY.share_rqth, share_rsa=TERRITORY.share_rsa,
    share_qpv=TERRITORY.share_qpv, share_single_parent=TERRITORY.share_single_parent,
    registration_window_days=300,
    plots=dict(TERRITORY.plots),
    answers=dict(TERRITORY.answers),
)

PRESETS: dict[str, Preset] = {p.name: p for p in (CITE_EMPLOI, PAR_EMPLOI, TERRITORY, SCALE)}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
