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
    """Age reached during the year of `on`: the older of `possible_ages`."""
    return on.year - birth_year


def possible_ages(birth_year: int, on: date) -> tuple[int, int]:
    """The ages a person born in `birth_year` may have on `on`, youngest first: one less until their birthday,
    which may fall on any day of the year. Only the year of birth leaves intake (the registering partner keeps
    the date; nothing downstream needs more to orient a person), so the age on a day is one of these two."""
    reached = age_on(birth_year, on)
    return reached - 1, reached


def in_audience(audience: Audience, profile: Profile, on: date, *, if_possible: bool = False) -> bool:
    """A person is in an audience when every condition it sets holds; an empty audience is everyone.

    The age is read as the age reached this year (`max_age: 25` is "25 or less this year"), unless
    `if_possible`: then it suffices that the person may be of that age on `on` (their birthday still to come)."""
    youngest, oldest = possible_ages(profile.birth_year, on)
    if audience.min_age is not None and oldest < audience.min_age:
        return False
    if audience.max_age is not None and (youngest if if_possible else oldest) > audience.max_age:
        return False
    return all(getattr(audience, flag) is None or getattr(audience, flag) == getattr(profile, flag)
               for flag in _FLAGS)


def rule_applies(rule: OrientationRule, profile: Profile, on: date, barriers: Iterable[BarrierKind], *,
                 if_possible: bool = False) -> bool:
    """A rule applies to a person in its audience and, for a barrier rule, with that barrier identified."""
    if rule.when_barrier is not None and rule.when_barrier not in set(barriers):
        return False
    return in_audience(rule.when, profile, on, if_possible=if_possible)


def referent_rule(territory: Territory, profile: Profile, on: date, barriers: Iterable[BarrierKind] = (),
                  excluded: Iterable[str] = (), registered_by: str | None = None) -> OrientationRule | None:
    """The organisme référent: the first primary rule that applies, skipping structures in `excluded`
    (those that already refused or let the referral expire). None when every candidate was tried.

    `registered_by`, at registration: a rule of the registering structure itself applies when the person may be
    in its audience that day. With the year of birth alone, someone born 26 years before the registration's year
    is 25 until their birthday and 26 after it. A structure that never saw them goes by the age reached this year
    (a person of 26 this year is not sent to the Mission locale). But the registering structure saw the birth
    date: the Mission locale taking in someone who may still be 25 is the best knowledge there is that they are,
    and a coordinator keeps it as their référent rather than send them to France Travail, where the referral
    would expire and escalate while the Mission locale accompanies them."""
    skip = set(excluded)
    barriers = tuple(barriers)
    for rule in territory.orientation:
        if not rule.primary or rule.to in skip:
            continue
        if rule_applies(rule, profile, on, barriers) or (
                rule.to == registered_by and rule_applies(rule, profile, on, barriers, if_possible=True)):
            return rule
    return None


def additional_rules(territory: Territory, profile: Profile, on: date,
                     barriers: Iterable[BarrierKind] = ()) -> list[OrientationRule]:
    """Rules that are not primary and apply: each adds a referral beside the organisme référent's."""
    barriers = tuple(barriers)
    return [r for r in territory.orientation if not r.primary and rule_applies(r, profile, on, barriers)]
