"""Orientation rules: which structure a person is referred to, read from the territory file. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, ConfigDict

from contracts.territory import Audience, OrientationRule, Territory
from contracts.vocabulary import BarrierKind

ESCALATION_RULE = "escalation"
REORIENTATION_PREFIX = "reorientation."

_FLAGS = ("rqth", "rsa", "qpv_resident", "single_parent")


class Profile(BaseModel):
    """What the rules look at: the year of birth and four situations, as last reported."""

    model_config = ConfigDict(frozen=True)

    birth_year: int
    rqth: bool = False
    rsa: bool = False
    qpv_resident: bool = False
    single_parent: bool = False


def age_on(birth_year: int, on: date) -> int:
    """Age reached during the year of `on`: only the year of birth leaves intake, so this is the best bound."""
    return on.year - birth_year


def in_audience(audience: Audience, profile: Profile, on: date) -> bool:
    """A person is in an audience when every condition it sets holds; an empty audience is everyone."""
    age = age_on(profile.birth_year, on)
    if audience.min_age is not None and age < audience.min_age:
        return False
    if audience.max_age is not None and age > audience.max_age:
        return False
    return all(getattr(audience, flag) is None or getattr(audience, flag) == getattr(profile, flag)
               for flag in _FLAGS)


def rule_applies(rule: OrientationRule, profile: Profile, on: date, barriers: Iterable[BarrierKind]) -> bool:
    """A rule applies to a person in its audience and, for a barrier rule, with that barrier identified."""
    if rule.when_barrier is not None and rule.when_barrier not in set(barriers):
        return False
    return in_audience(rule.when, profile, on)


def referent_rule(territory: Territory, profile: Profile, on: date, barriers: Iterable[BarrierKind] = (),
                  excluded: Iterable[str] = ()) -> OrientationRule | None:
    """The organisme référent: the first primary rule that applies, skipping structures in `excluded`
    (those that already refused or let the referral expire). None when every candidate was tried."""
    skip = set(excluded)
    barriers = tuple(barriers)
    for rule in territory.orientation:
        if rule.primary and rule.to not in skip and rule_applies(rule, profile, on, barriers):
            return rule
    return None


def additional_rules(territory: Territory, profile: Profile, on: date,
                     barriers: Iterable[BarrierKind] = ()) -> list[OrientationRule]:
    """Rules that are not primary and apply: each adds a referral beside the organisme référent's."""
    barriers = tuple(barriers)
    return [r for r in territory.orientation if not r.primary and rule_applies(r, profile, on, barriers)]
