"""The few helpers every page's HTML is built with: escaping, dates in French, hidden CSRF fields."""

from __future__ import annotations

import html
from datetime import date, datetime
from urllib.parse import urlencode

from services.web.csrf import FIELD
from services.web.labels import MISSING


def esc(value: object) -> str:
    """Text or attribute value, escaped; None and "" read as the dash of a missing value."""
    return MISSING if value is None or value == "" else html.escape(str(value), quote=True)


def attr(value: object) -> str:
    """An attribute value a form sends back (an option, a hidden field): escaped, and empty when missing. Never
    esc()'s dash: an option "Toutes" whose value read "—" sent the filter structure=— and emptied the list."""
    return "" if value is None else html.escape(str(value), quote=True)


def french_date(value: object) -> str:
    """2026-03-17 -> 17/03/2026; anything else as it came, escaped."""
    if not value:
        return MISSING
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return esc(value)


def french_time(value: object) -> str:
    """The hour of an ISO datetime, 09h30; "" when there is none."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Hh%M")
    except ValueError:
        return ""


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="{FIELD}" value="{esc(token)}">'


def query(path: str, params: dict[str, object]) -> str:
    """A link with its query string, empty values left out; escaped for an href."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return esc(path + ("?" + urlencode(kept) if kept else ""))
