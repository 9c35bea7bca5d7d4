"""CSRF: every POST carries its session's token in a hidden field, compared in constant time.

The session cookie is SameSite=Strict already; the token is the second lock, for browsers or proxies that
do not honour SameSite, and for the sign-in form (whose session exists before anyone is signed in).
"""

from __future__ import annotations

import hmac

FIELD = "csrf"


def csrf_ok(expected: str | None, sent: str | None) -> bool:
    if not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())
