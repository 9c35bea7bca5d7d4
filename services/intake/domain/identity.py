"""Pure identity rules of intake: normalisation, pseudonymous ids, match keys, and the order of matching.

No I/O, no clock, no randomness: the territory secret is passed in, HMAC is a pure function of its inputs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from contracts.people import Identity
from services.intake.domain.keyed_digest import hmac_sha256_hex

PERSON_ID_PREFIX = "p_"
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`´_.,]+")


# --------------------------------------------------------------------------- normalisation


def normalise_name(value: str) -> str:
    """Case, accents, hyphens, apostrophes and spacing do not make a different person.

    "Jean-Pierre  N'Diaye", "jean pierre n diaye" and "JEAN PIERRE N’DIAYE" all give "jean pierre n diaye"."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("ß", "ss").replace("æ", "ae").replace("œ", "oe").replace("Æ", "AE").replace("Œ", "OE")
    return _SEPARATORS.sub(" ", bare.casefold()).strip()


def first_name(first_names: str) -> str:
    """The first of the first names, normalised: what partners agree on most often."""
    words = normalise_name(first_names).split(" ")
    return words[0] if words else ""


def normalise_nir(nir: str) -> str:
    return re.sub(r"\s+", "", nir).upper()


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def normalise_phone(phone: str) -> str:
    """French numbers in national or international form compare equal: "+33 6 12..." == "06 12..."."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


# --------------------------------------------------------------------------- identities and keys


@dataclass(frozen=True)
class IdentityFacts:
    """The identity fields intake reasons on; a plain mirror of contracts.people.Identity."""

    nir: str | None = None
    last_name: str | None = None
    first_names: str | None = None
    birth_date: date | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def has_nir(self) -> bool:
        return bool(self.nir)

    @property
    def has_full_name(self) -> bool:
        return None not in (self.last_name, self.first_names, self.birth_date)

    @property
    def can_pseudonymise(self) -> bool:
        return self.has_nir or self.has_full_name

    def merged_with(self, newer: IdentityFacts) -> IdentityFacts:
        """What the vault keeps: the newer value of each field when given, the older one otherwise."""
        return IdentityFacts(**{f: getattr(newer, f) if getattr(newer, f) is not None else getattr(self, f)
                                for f in IdentityFacts.__dataclass_fields__})


def facts_of(identity: Identity) -> IdentityFacts:
    """The facts of a contract's identity block."""
    return IdentityFacts(nir=identity.nir, last_name=identity.last_name, first_names=identity.first_names,
                         birth_date=identity.birth_date, email=identity.email, phone=identity.phone)


class KeyKind(StrEnum):
    """Blind-index keys, in the order a careful integrator trusts them."""

    NIR = "nir"
    NAME_BIRTH = "name_birth"
    EMAIL_FIRST = "email_first"
    PHONE_FIRST = "phone_first"
    BIRTH = "birth"  # only to find near-duplicates to compare, never a match on its own


def _digest(secret: bytes, kind: str, value: str) -> str:
    return hmac_sha256_hex(secret, f"{kind}\x1f{value}".encode())


def match_keys(facts: IdentityFacts, secret: bytes) -> dict[KeyKind, str]:
    """Keyed digests of the identity: what the vault indexes, so it can match without keeping clear text."""
    keys: dict[KeyKind, str] = {}
    if facts.nir:
        keys[KeyKind.NIR] = _digest(secret, KeyKind.NIR, normalise_nir(facts.nir))
    if facts.has_full_name:
        assert facts.last_name and facts.first_names and facts.birth_date
        keys[KeyKind.NAME_BIRTH] = _digest(
            secret, KeyKind.NAME_BIRTH,
            f"{normalise_name(facts.last_name)}|{normalise_name(facts.first_names)}|{facts.birth_date.isoformat()}")
    if facts.first_names and facts.email:
        keys[KeyKind.EMAIL_FIRST] = _digest(
            secret, KeyKind.EMAIL_FIRST, f"{normalise_email(facts.email)}|{first_name(facts.first_names)}")
    if facts.first_names and facts.phone and normalise_phone(facts.phone):
        keys[KeyKind.PHONE_FIRST] = _digest(
            secret, KeyKind.PHONE_FIRST, f"{normalise_phone(facts.phone)}|{first_name(facts.first_names)}")
    if facts.birth_date:
        keys[KeyKind.BIRTH] = _digest(secret, KeyKind.BIRTH, facts.birth_date.isoformat())
    return keys


def person_id_for(facts: IdentityFacts, secret: bytes) -> str:
    """The pseudonymous id of a new person: keyed HMAC of the NIR, else of the normalised names and birth date."""
    return person_id_of_keys(match_keys(facts, secret))


def person_id_of_keys(keys: Mapping[KeyKind, str]) -> str:
    """`person_id_for`, from the identity's match keys already computed."""
    base = keys.get(KeyKind.NIR) or keys.get(KeyKind.NAME_BIRTH)
    if base is None:
        raise ValueError("an identity needs a NIR, or last name + first names + birth date")
    return PERSON_ID_PREFIX + base[:32]


def is_person_id(subject: str) -> bool:
    return subject.startswith(PERSON_ID_PREFIX) and len(subject) == len(PERSON_ID_PREFIX) + 32


def partner_ref_of(subject: str, source: str) -> str:
    """A subject that is not a person_id is the partner's own file number, bare or as "<structure_id>:<ref>"."""
    prefix = f"{source}:"
    return subject[len(prefix):] if subject.startswith(prefix) else subject


def registration_refs(subject: str, source: str, partner_ref: str | None) -> tuple[str, ...]:
    """The source's own references a registration teaches: its `partner_ref`, and its subject unless that is
    already a person_id; each once, in that order."""
    from_subject = None if is_person_id(subject) else partner_ref_of(subject, source)
    return tuple(dict.fromkeys(r for r in (partner_ref, from_subject) if r))


# --------------------------------------------------------------------------- resolution


class MatchRule(StrEnum):
    """How an incoming identity was tied to a known person, strongest first."""

    NIR = "nir"
    PARTNER_REF = "partner_ref"
    NAME_BIRTH = "name_birth"
    EMAIL_FIRST = "email_first"
    PHONE_FIRST = "phone_first"


# The blind-index keys that name a person by themselves, and the rule each stands for (BIRTH is not one).
RULE_OF_KEY = {KeyKind.NIR: MatchRule.NIR, KeyKind.NAME_BIRTH: MatchRule.NAME_BIRTH,
               KeyKind.EMAIL_FIRST: MatchRule.EMAIL_FIRST, KeyKind.PHONE_FIRST: MatchRule.PHONE_FIRST}


@dataclass(frozen=True)
class KnownPerson:
    """What the vault knows of a candidate: its id and whether (and which) NIR digest it holds."""

    person_id: str
    nir_key: str | None
    birth_date: date | None


@dataclass(frozen=True)
class Resolution:
    """Who the identity is: an existing person (or a new id), the rule that said so, and the others it proves to be
    the same person (to merge into it)."""

    person_id: str
    is_new: bool
    rule: MatchRule | None
    merge: tuple[tuple[str, MatchRule], ...] = ()


def _compatible(candidate: KnownPerson, facts_nir_key: str | None, birth: date | None) -> bool:
    """Two NIRs that differ, or two birth dates that differ, are two people whatever else they share."""
    if facts_nir_key and candidate.nir_key and candidate.nir_key != facts_nir_key:
        return False
    return not (birth and candidate.birth_date and birth != candidate.birth_date)


def resolve(facts: IdentityFacts, keys: Mapping[KeyKind, str], new_person_id: str,
            matches: Sequence[tuple[MatchRule, KnownPerson]]) -> Resolution:
    """Tie an identity to one person, trying the rules in order: NIR, the partner's own id, names + birth date,
    e-mail + first name, phone + first name.

    The first compatible match names the person; any later rule that matches a *different* compatible person
    proves the two ids are one person, and that one is merged into the first. No match: a new person."""
    nir_key = keys.get(KeyKind.NIR)
    order = list(MatchRule)
    ranked = sorted(matches, key=lambda m: order.index(m[0]))
    kept: tuple[MatchRule, KnownPerson] | None = None
    merge: list[tuple[str, MatchRule]] = []
    for rule, candidate in ranked:
        if not _compatible(candidate, nir_key, facts.birth_date):
            continue
        if kept is None:
            kept = (rule, candidate)
        elif candidate.person_id != kept[1].person_id and candidate.person_id not in {m for m, _ in merge}:
            if candidate.nir_key and kept[1].nir_key and candidate.nir_key != kept[1].nir_key:
                continue  # both carry a NIR and they differ: never merge two NIRs
            merge.append((candidate.person_id, rule))
    if kept is None:
        return Resolution(new_person_id, True, None)
    return Resolution(kept[1].person_id, False, kept[0], tuple(merge))


def merge_rule_name(rule: MatchRule) -> str:
    """The contract's MergeRule value for a match rule."""
    return "same_nir" if rule is MatchRule.NIR else "same_identity"


# --------------------------------------------------------------------------- near-duplicates


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def names_are_close(a: IdentityFacts, b: IdentityFacts) -> bool:
    """Same first name and a last name within two edits (or one inside the other): "Benali" vs "Ben Ali"."""
    if not (a.last_name and b.last_name and a.first_names and b.first_names):
        return False
    if first_name(a.first_names) != first_name(b.first_names):
        return False
    la, lb = normalise_name(a.last_name).replace(" ", ""), normalise_name(b.last_name).replace(" ", "")
    return la == lb or _edit_distance(la, lb) <= 2 or (min(len(la), len(lb)) >= 4 and (la in lb or lb in la))


def is_near_duplicate(a: IdentityFacts, b: IdentityFacts) -> bool:
    """Same birth date and close names, without a NIR to tell them apart: a human must look (review flag)."""
    if a.birth_date is None or a.birth_date != b.birth_date:
        return False
    if a.nir and b.nir and normalise_nir(a.nir) != normalise_nir(b.nir):
        return False
    return names_are_close(a, b)
