"""The orientation rules of the default territory: the organisme référent of the loi plein emploi."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from contracts.territory import load_territory
from contracts.vocabulary import BarrierKind
from services.referral.domain.orientation import Profile, additional_rules, age_on, referent_rule

TERRITORY = load_territory()
ON = date(2026, 3, 1)

profiles = st.builds(Profile, birth_year=st.integers(1950, 2012), rqth=st.booleans(), rsa=st.booleans(),
                     qpv_resident=st.booleans(), single_parent=st.booleans())


def expected_referent(p: Profile) -> str:
    # Written from the law, independently of the territory file's order.
    if age_on(p.birth_year, ON) <= 25:
        return "mission_locale_angevine"
    if p.rqth:
        return "cap_emploi_49"
    if p.rsa:
        return "departement_49"
    return "france_travail_angers_centre"


@given(profiles)
def test_the_referent_follows_the_law(profile: Profile) -> None:
    rule = referent_rule(TERRITORY, profile, ON)
    assert rule is not None and rule.to == expected_referent(profile)


def test_a_25_year_old_goes_to_the_mission_locale_and_a_26_year_old_does_not() -> None:
    assert referent_rule(TERRITORY, Profile(birth_year=2001), ON).to == "mission_locale_angevine"
    assert referent_rule(TERRITORY, Profile(birth_year=2000), ON).to == "france_travail_angers_centre"


@given(profiles, st.sets(st.sampled_from(list(BarrierKind))))
def test_additional_referrals_follow_the_territory_overrides(profile: Profile, barriers: set) -> None:
    targets = {r.to for r in additional_rules(TERRITORY, profile, ON, barriers)}
    assert ("aldev_cite_emploi" in targets) == profile.qpv_resident
    assert ("par_emploi" in targets) == (profile.single_parent and BarrierKind.GARDE_ENFANT in barriers)


@given(profiles)
def test_excluding_tried_structures_walks_down_to_nothing(profile: Profile) -> None:
    # Each exclusion moves to another structure; the chain ends (escalation) once all are tried.
    tried: list[str] = []
    while (rule := referent_rule(TERRITORY, profile, ON, excluded=tried)) is not None:
        assert rule.to not in tried
        tried.append(rule.to)
    assert tried[0] == expected_referent(profile)
    assert tried[-1] == "france_travail_angers_centre"  # the default rule closes every chain
