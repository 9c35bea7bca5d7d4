"""Simulated people: attributes that drive the orientation rules, and a fake but well-formed identity.

Everything is drawn from a random generator seeded by (seed, preset, person index), so a person is the same
whatever the other people are. Identities are invented: names from common French lists, a NIR of valid shape
and key whose order number is drawn at random, e-mails on example.org, phone numbers 06/07.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from contracts.people import Identity
from contracts.territory import Audience, Territory
from contracts.vocabulary import BarrierKind, EducationLevel, FtCategory

from simulator.presets import Preset

FIRST_NAMES_F = ("Léa", "Emma", "Chloé", "Inès", "Manon", "Camille", "Sarah", "Yasmine", "Aïcha", "Fatou", "Julie",
                 "Nadia", "Sandrine", "Céline", "Aurélie", "Mélanie", "Samira", "Amandine", "Océane", "Lina",
                 "Khadija", "Marie", "Nathalie", "Élodie", "Awa", "Zoé", "Laetitia", "Sonia", "Myriam", "Anaïs")
FIRST_NAMES_M = ("Lucas", "Hugo", "Nathan", "Mohamed", "Yanis", "Thomas", "Kevin", "Julien", "Mamadou", "Karim",
                 "Nicolas", "Sébastien", "Enzo", "Mathis", "Rayan", "Bilal", "David", "Christophe", "Ibrahim",
                 "Théo", "Adam", "Jérôme", "Franck", "Moussa", "Anthony", "Romain", "Sofiane", "Loïc", "Dylan",
                 "Stéphane")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
              "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
              "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
              "Benali", "Diallo", "Traoré", "Nguyen", "Haddad", "Cissé", "Rousseau", "Blanchard", "Guérin",
              "Boucher", "Chevalier", "Gauthier", "Perrin", "Brunet", "Renaud", "Ménard", "Hamon", "Besnard",
              "Pasquier", "Cottin", "Mabille")

# Communes of the territory with their share of residents; the quartiers prioritaires are in Angers and Trélazé.
QPV_COMMUNES = (("49007", 0.8), ("49353", 0.2))
OTHER_COMMUNES = (("49007", 0.55), ("49353", 0.1), ("49246", 0.1), ("49015", 0.15), ("49099", 0.1))
EDUCATION = ((EducationLevel.INFRA_3, 0.3), (EducationLevel.LEVEL_3, 0.3), (EducationLevel.LEVEL_4, 0.22),
             (EducationLevel.LEVEL_5, 0.1), (EducationLevel.LEVEL_6, 0.06), (EducationLevel.LEVEL_7, 0.02))
# Other barriers than childcare, with how often each person has it.
BARRIER_SHARES = ((BarrierKind.MOBILITE, 0.3), (BarrierKind.NUMERIQUE, 0.2), (BarrierKind.SAVOIRS_DE_BASE, 0.12),
                  (BarrierKind.LOGEMENT, 0.1), (BarrierKind.SANTE, 0.08), (BarrierKind.PRECARITE_FINANCIERE, 0.15),
                  (BarrierKind.DISCRIMINATION, 0.04))


def rng_for(seed: int, preset: str, index: int, purpose: str) -> random.Random:
    """A generator of its own for one purpose of one person (string seeds are hashed stably by Python)."""
    return random.Random(f"ariane-sim|{seed}|{preset}|{index}|{purpose}")


def weighted(rng: random.Random, choices: tuple[tuple[object, float], ...] | dict) -> object:
    items = list(choices.items()) if isinstance(choices, dict) else list(choices)
    return rng.choices([c for c, _ in items], weights=[w for _, w in items])[0]


def ascii_lower(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "-")


def nir_key(first13: str) -> str:
    """The two-digit key of a NIR: 97 minus the 13 digits modulo 97."""
    return f"{97 - int(first13) % 97:02d}"


@dataclass(frozen=True)
class SimPerson:
    index: int
    key: str  # the simulator's own name for the person, e.g. "p00042"; never sent
    birth_date: date
    female: bool
    commune_insee: str
    qpv_resident: bool
    rqth: bool
    rsa: bool
    single_parent: bool
    education_level: EducationLevel
    barriers: tuple[BarrierKind, ...]
    identity: Identity = field(repr=False)

    @property
    def birth_year(self) -> int:
        return self.birth_date.year

    def age_in(self, year: int) -> int:
        """Age as the orientation rules see it, from the birth year (ages are drawn away from the boundaries)."""
        return year - self.birth_year

    def matches(self, audience: Audience, year: int) -> bool:
        age = self.age_in(year)
        return ((audience.min_age is None or age >= audience.min_age)
                and (audience.max_age is None or age <= audience.max_age)
                and all(want is None or getattr(self, name) == want
                        for name, want in (("rqth", audience.rqth), ("rsa", audience.rsa),
                                           ("qpv_resident", audience.qpv_resident),
                                           ("single_parent", audience.single_parent))))

    def ft_category(self) -> FtCategory:
        return FtCategory.A


def make_person(seed: int, preset: Preset, index: int, start: date, *,
                single_parent: bool | None = None) -> SimPerson:
    """`single_parent`, when given, is the cohort's quota (quotas.py) and replaces the draw by the share."""
    rng = rng_for(seed, preset.name, index, "person")
    # Ages are drawn away from the under-26 boundary so that no rule depends on the day of birth.
    if rng.random() < preset.share_under_26:
        age = rng.randint(17, 24)
    else:
        age = rng.choice((rng.randint(28, 45), rng.randint(28, 62)))
    birth = date(start.year - age, rng.randint(1, 12), rng.randint(1, 28))
    female = rng.random() < (0.85 if preset.share_single_parent > 0.5 else 0.5)
    qpv = rng.random() < preset.share_qpv
    commune = str(weighted(rng, QPV_COMMUNES if qpv else OTHER_COMMUNES))
    rqth = rng.random() < preset.share_rqth
    # The RSA is for people of 25 and over: its share among adults keeps the preset's share overall.
    rsa = age >= 25 and rng.random() < min(1.0, preset.share_rsa / (1 - preset.share_under_26))
    if single_parent is None:
        single_parent = age >= 19 and rng.random() < preset.share_single_parent
    education = weighted(rng, EDUCATION)
    barriers: list[BarrierKind] = []
    if single_parent and (preset.share_childcare_barrier >= 1 or rng.random() < 0.6) \
            or rng.random() < preset.share_childcare_barrier:
        barriers.append(BarrierKind.GARDE_ENFANT)
    for kind, share in BARRIER_SHARES:
        if rng.random() < share:
            barriers.append(kind)
    identity = make_identity(rng, index, birth, female)
    return SimPerson(index=index, key=f"p{index:05d}", birth_date=birth, female=female, commune_insee=commune,
                     qpv_resident=qpv, rqth=rqth, rsa=rsa, single_parent=single_parent,
                     education_level=education, barriers=tuple(barriers), identity=identity)  # type: ignore[arg-type]


def make_identity(rng: random.Random, index: int, birth: date, female: bool) -> Identity:
    first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
    if rng.random() < 0.15:
        first = f"{first} {rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)}"
    last = rng.choice(LAST_NAMES)
    # NIR: sex, year, month, département 49, then six digits (commune and order number) drawn from the index
    # so that no two simulated people share a NIR, then the key.
    n = index + 1
    first13 = f"{2 if female else 1}{birth.year % 100:02d}{birth.month:02d}49{n // 999 + 1:03d}{n % 999 + 1:03d}"
    nir = first13 + nir_key(first13)
    email = f"{ascii_lower(first.split()[0])}.{ascii_lower(last)}{index}@example.org"
    phone = f"0{rng.choice('67')} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d} " \
            f"{rng.randint(0, 99):02d}"
    return Identity(nir=nir, last_name=last, first_names=first, birth_date=birth, email=email, phone=phone)


def referent_rule(person: SimPerson, territory: Territory, year: int):
    """The first primary orientation rule that matches: the person's organisme référent."""
    for rule in territory.orientation:
        if rule.primary and rule.when_barrier is None and person.matches(rule.when, year):
            return rule
    raise ValueError("the territory has no default orientation rule")
