"""What intake checks of one partner event before anything is written, pure: the envelope as CloudEvents
means it, the content hash that tells a duplicate from a conflict, dates that make sense, and the personal
data firewall. Every problem names a field, never the value found there.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel

from contracts.envelope import Envelope
from contracts.events import FieldError
from services.intake.domain import pii

# CloudEvents 1.0 requires these four attributes of every event; intake never supplies one.
REQUIRED_ATTRIBUTES = ("id", "source", "specversion", "type")


def missing_attributes(raw: Mapping[str, Any]) -> list[FieldError]:
    """The required CloudEvents attributes an event lacks (absent, not a string, or empty)."""
    return [FieldError(name, f"Field required: CloudEvents attribute {name!r}", "missing")
            for name in REQUIRED_ATTRIBUTES if not isinstance(raw.get(name), str) or not raw.get(name)]


def content_sha256(raw: Mapping[str, Any]) -> str:
    """The digest of an event's content, whatever the spacing or key order it was written with."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def published_id(event_id: str, source: str, taken_by_another_source: bool) -> str:
    """The id an accepted event is published under: the partner's own, unless another structure already used
    it (ids are unique per source only, readers of ariane.intake.v1 key by id): then `<source>:<id>`, hashed
    if that would be longer than an id may be."""
    if not taken_by_another_source:
        return event_id
    scoped = f"{source}:{event_id}"
    return scoped if len(scoped) <= 128 else f"{source}:{hashlib.sha256(event_id.encode()).hexdigest()[:40]}"


# --------------------------------------------------------------------------- answers of bounded size

ERRORS_ANSWERED = 50
ERROR_TEXT_ANSWERED = 300


def _cut(text: str) -> str:
    if len(text) <= ERROR_TEXT_ANSWERED:
        return text
    mark = f"… [{len(text)} characters, cut]"
    return text[:ERROR_TEXT_ANSWERED - len(mark)] + mark


def answerable(errors: list[FieldError]) -> list[FieldError]:
    """The field errors an answer gives: at most ERRORS_ANSWERED, each place and message cut, then one saying
    how many more there were. An event of a megabyte can hold a hundred thousand unknown field names, each as
    long as the sender likes; the answer names the problem without growing with it."""
    kept = [FieldError(_cut(e.loc), _cut(e.msg), _cut(e.type), e.index) for e in errors[:ERRORS_ANSWERED]]
    if len(errors) > ERRORS_ANSWERED:
        kept.append(FieldError("", f"{len(errors) - ERRORS_ANSWERED} more errors not listed", "errors_cut"))
    return kept


# --------------------------------------------------------------------------- sense of dates

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST = date(1900, 1, 1)


@dataclass(frozen=True)
class Window:
    """What counts as plausible around the territory's clock `now`."""

    now: datetime
    time_ahead: timedelta = timedelta(days=366)  # an event's `time`: at most a year ahead
    data_ahead: timedelta = timedelta(days=5 * 366)  # planned dates in data (ends of contracts, due dates)
    oldest_person_years: int = 100
    youngest_person_years: int = 14

    def birth_years(self) -> range:
        return range(self.now.year - self.oldest_person_years, self.now.year - self.youngest_person_years + 1)


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).date()
    return value


def _dated_fields(model: BaseModel, raw: Any, path: str) -> Iterator[tuple[str, date | datetime, Any]]:
    """(path, parsed value, raw value) of every date and time of a parsed event, at any depth."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        raw_value = raw.get(name) if isinstance(raw, Mapping) else None
        where = f"{path}.{name}" if path else name
        if isinstance(value, (date, datetime)):
            yield where, value, raw_value
        elif isinstance(value, BaseModel):
            yield from _dated_fields(value, raw_value, where)


def date_problems(event: Envelope, raw: Mapping[str, Any], window: Window) -> list[FieldError]:
    """Times are RFC 3339 strings, dates ISO strings, both within a plausible window; birth years plausible."""
    problems: list[FieldError] = []
    latest_time = _as_date(window.now + window.time_ahead)
    latest_data = _as_date(window.now + window.data_ahead)
    for where, value, raw_value in _dated_fields(event, raw, ""):
        if where == "recordedtime":
            continue  # set by intake, whatever a partner wrote
        if isinstance(value, datetime):
            if not isinstance(raw_value, str) or not RFC3339.fullmatch(raw_value):
                problems.append(FieldError(where, "Must be an RFC 3339 date-time string with its offset",
                                           "rfc3339"))
                continue
        elif not isinstance(raw_value, str) or not ISO_DATE.fullmatch(raw_value):
            problems.append(FieldError(where, "Must be an ISO 8601 date string (YYYY-MM-DD)", "iso_date"))
            continue
        day = _as_date(value)
        latest = latest_time if where == "time" else latest_data
        if where.endswith("birth_date"):
            latest = _as_date(window.now)
        if not EARLIEST <= day <= latest:
            problems.append(FieldError(where, f"Must be between {EARLIEST.isoformat()} and {latest.isoformat()}",
                                       "date_out_of_range"))
        elif where.endswith("birth_date") and day.year not in window.birth_years():
            problems.append(FieldError(where, "Not a plausible birth date for a person in employment support",
                                       "date_out_of_range"))
    birth_year = getattr(event.data, "birth_year", None)
    if isinstance(birth_year, int) and birth_year not in window.birth_years():
        years = window.birth_years()
        problems.append(FieldError("data.birth_year", f"Must be between {years.start} and {years.stop - 1}",
                                   "out_of_range"))
    return problems


# --------------------------------------------------------------------------- personal data firewall

# Fields a person's own names must not appear in: free text and identifiers. The other detectors (NIR,
# e-mail, phone, IBAN) look at every string of the event except its identity block.
FREE_TEXT = frozenset({"reason", "comment", "employer", "partner_ref", "rule"})
ENVELOPE_IDS = ("id", "subject", "correlationid", "causationid", "dataschema")
NOT_A_PERSON_ID = frozenset({"structure_id"})


def nul_characters(raw: Mapping[str, Any]) -> list[FieldError]:
    """Fields whose text (or key) holds U+0000. No partner means it, and PostgreSQL cannot store it in text:
    refused here, with its place, rather than failing in the database."""
    found = [path for path, value in _nodes(raw, "") if "\x00" in path or (isinstance(value, str) and "\x00" in value)]
    return [FieldError(path, "Must not contain the NUL character (U+0000)", "string_nul") for path in found[:20]]


def _nodes(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every value of a JSON document under `path`, with its place (`a.b[2]`), the document itself first."""
    yield path, value
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _nodes(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, f"{path}[{i}]")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    return ((place, text) for place, text in _nodes(value, path) if isinstance(text, str))


def _names_may_appear(path: str) -> bool:
    leaf = path.rsplit(".", 1)[-1].split("[", 1)[0]
    if "." not in path:
        return leaf in ENVELOPE_IDS
    return leaf in FREE_TEXT or (leaf.endswith("_id") and leaf not in NOT_A_PERSON_ID)


_PSEUDONYM = re.compile(r"p_[0-9a-f]{32}")


def personal_data_problems(event: Envelope, raw: Mapping[str, Any]) -> list[FieldError]:
    """Fields outside the identity block that hold personal data, and correlation fields or `dataschema` that
    do not follow their strict pattern."""
    identity = getattr(event.data, "identity", None)
    names = pii.name_tokens(getattr(identity, "last_name", None), getattr(identity, "first_names", None))
    problems: list[FieldError] = []
    for field in ("correlationid", "causationid"):
        value = raw.get(field)
        if isinstance(value, str) and not pii.is_strict_identifier(value):
            problems.append(FieldError(field, "Must be an identifier: letters, digits and . _ : - only, at most 128",
                                       "pattern"))
    schema = raw.get("dataschema")
    if isinstance(schema, str) and not pii.dataschema_ok(schema, type(event).short_type):
        problems.append(FieldError("dataschema", f"Must be absent or ariane:contracts/schemas/"
                                   f"{type(event).short_type}.v1.json", "pattern"))
    data = raw.get("data")
    scanned = {k: v for k, v in raw.items() if k not in ("data", "type", "specversion", "datacontenttype")}
    if isinstance(data, Mapping):
        scanned["data"] = {k: v for k, v in data.items() if k != "identity"}
    for path, text in _strings(scanned, ""):
        if _PSEUDONYM.fullmatch(text):
            # A person_id intake itself minted: 32 hex digits of an HMAC, which by chance may start with what
            # looks like a phone number or a NIR (about one person in three thousand). It holds no identity.
            continue
        kinds = pii.kinds_in(text, names if _names_may_appear(path) else ())
        if kinds:
            problems.append(FieldError(path, f"Must not hold personal data (found: {', '.join(kinds)}); "
                                       "identity goes in data.identity only", "personal_data"))
    return problems
