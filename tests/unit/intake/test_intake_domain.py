"""Identity normalisation and matching rules of intake's pure core."""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain import admission
from services.intake.domain import identity as domain
from services.intake.domain.identity import IdentityFacts, KeyKind, KnownPerson, MatchRule

SECRET = b"unit-test-territory-secret"
letters = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèêëàâäîïôöûüùçñ", min_size=1, max_size=12)
names = st.lists(letters, min_size=1, max_size=3)
births = st.dates(min_value=date(1930, 1, 1), max_value=date(2012, 12, 31))


def restyle(words: list[str], how: tuple[bool, bool, bool, str]) -> str:
    """The same name as another partner might type it: upper case, no accents, other separators, spaces."""
    upper, strip_accents, pad, sep = how
    out = []
    for word in words:
        if strip_accents:
            word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
        out.append(word.upper() if upper else word.capitalize())
    text = sep.join(out)
    return f"  {text} " if pad else text


styles = st.tuples(st.booleans(), st.booleans(), st.booleans(), st.sampled_from([" ", "-", "  ", " - ", "'"]))


@given(names, names, births, styles, styles)
def test_same_identity_gives_same_person_id_whatever_accents_case_spacing_hyphens(last, first, birth, s1, s2):
    a = IdentityFacts(last_name=restyle(last, s1), first_names=restyle(first, s1), birth_date=birth)
    b = IdentityFacts(last_name=restyle(last, s2), first_names=restyle(first, s2), birth_date=birth)
    assert domain.person_id_for(a, SECRET) == domain.person_id_for(b, SECRET)


@given(st.from_regex(r"[12][0-9]{14}", fullmatch=True), st.sampled_from(["", " ", "  "]))
def test_nir_spacing_does_not_matter_and_wins_over_names(nir, sep):
    spaced = sep.join([nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]])
    a = IdentityFacts(nir=nir, last_name="A", first_names="B", birth_date=date(2000, 1, 1))
    b = IdentityFacts(nir=spaced, last_name="Other", first_names="Name", birth_date=date(1990, 1, 1))
    assert domain.person_id_for(a, SECRET) == domain.person_id_for(b, SECRET)


@given(names, names, births, births)
def test_different_birth_dates_are_different_people(last, first, b1, b2):
    a = IdentityFacts(last_name=" ".join(last), first_names=" ".join(first), birth_date=b1)
    b = IdentityFacts(last_name=" ".join(last), first_names=" ".join(first), birth_date=b2)
    assert (domain.person_id_for(a, SECRET) == domain.person_id_for(b, SECRET)) == (b1 == b2)


def test_person_id_depends_on_the_territory_secret_and_hides_the_nir():
    facts = IdentityFacts(nir="199054900712345")
    pid = domain.person_id_for(facts, SECRET)
    assert pid != domain.person_id_for(facts, b"another secret")
    assert domain.is_person_id(pid) and "199054900712345" not in pid


def test_phone_numbers_compare_in_national_and_international_form():
    assert domain.normalise_phone("+33 6 12 34 56 78") == domain.normalise_phone("06.12.34.56.78")


def known(pid: str, nir_key: str | None = None, birth: date | None = None) -> KnownPerson:
    return KnownPerson(pid, nir_key, birth)


def test_resolution_follows_the_integrators_order_and_merges_what_a_stronger_rule_proves():
    facts = IdentityFacts(nir="199054900712345", first_names="Léa", birth_date=date(1999, 5, 14))
    keys = domain.match_keys(facts, SECRET)
    by_email = known("p_email", None, date(1999, 5, 14))
    by_nir = known("p_nir", keys[KeyKind.NIR], date(1999, 5, 14))
    result = domain.resolve(facts, keys, "p_new", [(MatchRule.EMAIL_FIRST, by_email), (MatchRule.NIR, by_nir)])
    assert result.person_id == "p_nir" and result.rule is MatchRule.NIR
    assert result.merge == (("p_email", MatchRule.EMAIL_FIRST),)


def test_conflicting_nir_or_birth_date_is_never_a_match():
    facts = IdentityFacts(nir="199054900712345", first_names="Léa", birth_date=date(1999, 5, 14))
    keys = domain.match_keys(facts, SECRET)
    other_nir = known("p_other", "f" * 64, date(1999, 5, 14))
    other_birth = known("p_born_later", None, date(2001, 1, 1))
    result = domain.resolve(facts, keys, "p_new", [(MatchRule.PHONE_FIRST, other_nir),
                                                   (MatchRule.EMAIL_FIRST, other_birth)])
    assert result.is_new and result.person_id == "p_new" and result.merge == ()


def test_no_match_is_a_new_person():
    facts = IdentityFacts(last_name="Roux", first_names="Lina", birth_date=date(2001, 2, 2))
    result = domain.resolve(facts, domain.match_keys(facts, SECRET), "p_new", [])
    assert result.is_new and result.rule is None


def test_near_duplicates_need_same_birth_date_and_close_names():
    a = IdentityFacts(last_name="Benali", first_names="Yanis", birth_date=date(2004, 7, 19))
    assert domain.is_near_duplicate(a, IdentityFacts(last_name="Ben Ali", first_names="Yanis Karim",
                                                     birth_date=date(2004, 7, 19)))
    assert domain.is_near_duplicate(a, IdentityFacts(last_name="Benaly", first_names="yanis",
                                                     birth_date=date(2004, 7, 19)))
    assert not domain.is_near_duplicate(a, IdentityFacts(last_name="Benali", first_names="Yanis",
                                                         birth_date=date(2004, 7, 20)))
    assert not domain.is_near_duplicate(a, IdentityFacts(last_name="Durand", first_names="Yanis",
                                                         birth_date=date(2004, 7, 19)))


def test_partner_reference_may_be_prefixed_by_the_source():
    assert domain.partner_ref_of("mission_locale_angevine:ML-1", "mission_locale_angevine") == "ML-1"
    assert domain.partner_ref_of("ML-1", "mission_locale_angevine") == "ML-1"


def test_unknown_structures_are_named_by_field_never_by_value():
    known_ids = frozenset({"a_b"})
    assert admission.unknown_structures("a_b", [("structure_id", "a_b")], known_ids, known_ids) == []
    problems = admission.unknown_structures("zz", [("structure_id", "yy")], known_ids, known_ids)
    assert len(problems) == 2 and "data.structure_id" in problems[1]
    assert not any("zz" in p or "yy" in p for p in problems)
