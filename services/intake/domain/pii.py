"""Personal data detectors, pure: what must never pass intake outside an identity block.

Each detector answers whether a text holds a kind of personal data, never what it found, so callers can
name the field and the kind without echoing the value. `redact` rewrites a whole JSON value for the
dead-letter topic: identity-like keys at any depth, detected values in any string, base64 included.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from services.intake.domain.identity import normalise_name

REDACTED = "[redacted by intake]"

# --------------------------------------------------------------------------- detectors

# NIR: sex, year, month (or 20-99 for unknown / overseas), department (2A/2B for Corsica), commune, order, key.
_NIR = re.compile(
    r"(?<![0-9A-Za-z])([1-478])[\s.\-]?(\d{2})[\s.\-]?(0[1-9]|1[0-2]|[2-9]\d)[\s.\-]?(\d{2}|2[AaBb])[\s.\-]?"
    r"(\d{3})[\s.\-]?(\d{3})[\s.\-]?(\d{2})(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[^\s@<>()\[\]\",;:]+(?:@|\s*\(at\)\s*|\s*\[at\]\s*)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# French numbers: 0X XX XX XX XX, +33 X XX XX XX XX, 0033..., with spaces, dots or hyphens between pairs. Letters
# bound a number on both sides, as digits do: the ids Ariane mints hold hex digests (chk-0612345678abcdef-…),
# whose digits are no phone number, and a partner echoing such an id back must not be refused for it.
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:(?:\+|00)\s?33[\s.\-]?(?:\(0\)[\s.\-]?)?|0)[1-9](?:[\s.\-]?\d{2}){4}"
                    r"(?![0-9A-Za-z])")
# SEPA country codes, upper case as IBANs are written; groups separated by single spaces or nothing.
_IBAN = re.compile(r"(?<![A-Za-z0-9])((?:FR|MC|DE|BE|ES|IT|LU|CH|GB|NL|PT|AT|IE|PL|SE|DK|FI|NO|GR|CZ|RO|HU|BG|HR|SI|SK"
                   r"|LT|LV|EE|CY|MT|IS|LI|SM|VA|AD)\d{2}(?: ?[A-Z0-9]){11,30})(?![A-Za-z0-9])")


def _nir_key_ok(groups: tuple[str, ...]) -> bool:
    sex, year, month, dept, commune, order, key = groups
    dept_digits = dept.upper().replace("2A", "19").replace("2B", "18")
    body = int(sex + year + month + dept_digits + commune + order)
    return 97 - body % 97 == int(key)


def has_nir(text: str) -> bool:
    """A NIR (numéro de sécurité sociale) of 15 characters with its 2-digit key, spaced or not. A wrong key is
    still a NIR (a typo of one); the shape (sex, year, month, department, commune, order, key) is the test."""
    return _NIR.search(text) is not None


def nir_key_is_right(text: str) -> bool:
    """The first NIR of a text has the right key (97 minus the number modulo 97)."""
    match = _NIR.search(text)
    return match is not None and _nir_key_ok(match.groups())


def has_email(text: str) -> bool:
    # The pattern needs one of these three, written as they are here: a text without any cannot match, and
    # most texts (ids, codes, dates) are told apart by this test alone, without the pattern's slow scan.
    if "@" not in text and "(at)" not in text and "[at]" not in text:
        return False
    return _EMAIL.search(text) is not None


def has_phone(text: str) -> bool:
    """A French phone number, national or international form."""
    return _PHONE.search(text) is not None


def _iban_ok(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34 or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        digits = "".join(str(int(c, 36)) for c in rearranged)
    except ValueError:
        return False
    return int(digits) % 97 == 1


def has_iban(text: str) -> bool:
    """An IBAN whose check digits are right (mod 97), spaced or not."""
    return any(_iban_ok(m.group(1)) for m in _IBAN.finditer(text))


def name_tokens(last_name: str | None, first_names: str | None) -> frozenset[str]:
    """The words of a person's names worth looking for (normalised, three letters or more)."""
    words: set[str] = set()
    for value in (last_name, first_names):
        if value:
            whole = normalise_name(value)
            words |= {w for w in whole.split(" ") if len(w) >= 3}
            if " " in whole and len(whole) >= 3:
                words.add(whole)
    return frozenset(words)


def has_name(text: str, names: Iterable[str]) -> bool:
    """One of the person's names appears as a word (case, accents and separators ignored)."""
    padded = f" {normalise_name(text)} "
    return any(f" {name} " in padded for name in names)


def kinds_in(text: str, names: Iterable[str] = ()) -> list[str]:
    """The kinds of personal data a text holds, in a fixed order: nir, email, phone, iban, name."""
    found = []
    if has_nir(text):
        found.append("nir")
    if has_email(text):
        found.append("email")
    if has_phone(text):
        found.append("phone")
    if has_iban(text):
        found.append("iban")
    if names and has_name(text, names):
        found.append("name")
    return found


# --------------------------------------------------------------------------- strict identifiers

CORRELATION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")


def is_strict_identifier(value: str) -> bool:
    """Correlation and causation ids: letters, digits and . _ : - only (no spaces, no @, no free text)."""
    return CORRELATION_PATTERN.fullmatch(value) is not None


def dataschema_ok(value: str, short_type: str) -> bool:
    """`dataschema` is absent or the committed schema of the event's own type: ariane:contracts/schemas/<type>.vN.json."""
    return value == "" or re.fullmatch(rf"ariane:contracts/schemas/{re.escape(short_type)}\.v[1-9][0-9]?\.json",
                                      value) is not None


# --------------------------------------------------------------------------- redaction of a whole value

_IDENTITY_KEYS = ("identity", "identite", "nir", "nss", "secu", "last_name", "lastname", "first_name",
                  "first_names", "firstname", "firstnames", "surname", "given_name", "nom", "prenom", "prenoms",
                  "name", "names", "birth_date", "birthdate", "date_naissance", "naissance", "email", "mail",
                  "courriel", "phone", "telephone", "tel", "mobile", "portable", "iban", "address", "adresse")


def _key_norm(key: str) -> str:
    return re.sub(r"[^a-z]", "", normalise_name(key).replace(" ", ""))


_KEY_FORMS = frozenset(_key_norm(k) for k in _IDENTITY_KEYS)


def is_identity_key(key: str) -> bool:
    """A key that names identity, spelt right or nearly (`identiy`, `Last-Name`, `e_mail`)."""
    norm = _key_norm(key)
    if not norm:
        return False
    if norm in _KEY_FORMS or any(part in norm for part in ("ident", "naiss", "birth", "mail", "phone", "nir")):
        return True
    return bool(difflib.get_close_matches(norm, _KEY_FORMS, n=1, cutoff=0.8))


def names_anywhere(value: Any) -> frozenset[str]:
    """Names of every identity-like object in a JSON value, whatever its depth or key."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        last = next((v for k, v in value.items() if _key_norm(str(k)) in {"lastname", "surname", "nom"}
                     and isinstance(v, str)), None)
        first = next((v for k, v in value.items() if _key_norm(str(k)) in
                      {"firstname", "firstnames", "prenom", "prenoms", "givenname"} and isinstance(v, str)), None)
        found |= name_tokens(last, first)
        for v in value.values():
            found |= names_anywhere(v)
    elif isinstance(value, list):
        for v in value:
            found |= names_anywhere(v)
    return frozenset(found)


_BASE64 = re.compile(r"^[A-Za-z0-9+/=_\-\s]{16,}$")


def _decoded(text: str) -> Any:
    """A string that is base64 of text (or of JSON): its content, else None."""
    if not _BASE64.fullmatch(text):
        return None
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    try:
        return json.loads(decoded)
    except ValueError:
        return decoded


def _text_is_personal(text: str, names: frozenset[str]) -> bool:
    if kinds_in(text, names):
        return True
    inner = _decoded(text)
    if inner is None:
        return False
    if isinstance(inner, str):
        return bool(kinds_in(inner, names))
    return redact(inner, names) != inner


def redact(value: Any, names: frozenset[str] = frozenset()) -> Any:
    """A JSON value with every identity-like key's value and every string holding personal data replaced."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for index, (k, v) in enumerate(value.items()):
            key = f"[redacted key {index}]" if _text_is_personal(str(k), names) else str(k)
            out[key] = REDACTED if is_identity_key(str(k)) else redact(v, names)
        return out
    if isinstance(value, list):
        return [redact(v, names) for v in value]
    if isinstance(value, str) and _text_is_personal(value, names):
        return REDACTED
    return value
