"""Outbound webhooks, the pure part: who is notified, how a notice is signed, when to try again. No I/O here.

A partner that does not read Kafka gets each event about a referral sent to it as an HTTP POST of the very
bytes published on `ariane.referral.v1` (CloudEvents structured JSON), signed so it can check the sender:

    X-Ariane-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the structure's secret>
    X-Ariane-Event-Id: <the event id, to discard a notice received twice>

The time is part of what is signed so that a captured notice cannot be replayed later (the partner rejects
a `t` too far from its own clock). The delivery shell (webhook_delivery.py) decides nothing by itself: what a
response means and how long to wait are the functions below.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from contracts.envelope import Envelope
from contracts.referrals import ReferralExpired, ReferralIssued, ReferralReminderSent
from contracts.territory import Territory

SIGNATURE_HEADER = "X-Ariane-Signature"
EVENT_ID_HEADER = "X-Ariane-Event-Id"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300


class WebhookConfigError(ValueError):
    """Webhook settings that cannot work (a URL with no secret to sign with, a secret for nobody)."""


# --- who ----------------------------------------------------------------------------------------------------


def receiving_structure(event: Envelope) -> str | None:
    """The structure a notice of this event goes to: the referral's receiving structure, or None (not notified)."""
    if isinstance(event, ReferralIssued):
        return event.data.to_structure
    if isinstance(event, (ReferralReminderSent, ReferralExpired)):
        return event.data.structure_id
    return None


def webhook_targets(territory: Territory, secrets: Mapping[str, str]) -> dict[str, str]:
    """{structure id: webhook URL} of the territory, after checking every URL can be signed and reached.

    Raises WebhookConfigError naming every problem: a structure with a URL and no secret (its notices could not
    be signed), a URL that is not absolute http(s), a secret for a structure the territory does not know (a typo
    would otherwise leave a partner silently unsigned)."""
    problems: list[str] = []
    targets: dict[str, str] = {}
    for structure in territory.structures:
        url = structure.webhook_url
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"structure {structure.id!r}: webhook_url {url!r} is not an absolute http(s) URL")
        if not secrets.get(structure.id):
            problems.append(f"structure {structure.id!r} has a webhook_url but no secret in "
                            "ARIANE_REFERRAL_WEBHOOK_SECRETS")
        targets[structure.id] = url
    unknown = sorted(set(secrets) - set(territory.structures_by_id))
    if unknown:
        problems.append(f"ARIANE_REFERRAL_WEBHOOK_SECRETS names structures the territory does not know: {unknown}")
    if problems:
        raise WebhookConfigError("webhook configuration: " + "; ".join(problems))
    return targets


# --- signing ------------------------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Ariane-Signature value of `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},{SIGNATURE_VERSION}={mac}"


def verify(header: str, body: bytes, secret: str, now: int, tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """What a partner does on receipt: the signature matches the body and its time is within tolerance."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body).rsplit("=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get(SIGNATURE_VERSION, ()))


# --- retrying -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay_s <= 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError(f"invalid retry policy: {self}")


def backoff_delay(attempts_made: int, policy: RetryPolicy, jitter: float = 1.0) -> float:
    """Seconds to wait after the `attempts_made`-th failed attempt: base * 2^(n-1), capped, then scaled into
    [half, all] of that by `jitter` in [0, 1] so partners coming back up are not hit by every sender at once."""
    if attempts_made < 1:
        raise ValueError("attempts_made starts at 1")
    full = min(policy.max_delay_s, policy.base_delay_s * 2.0 ** min(attempts_made - 1, 62))
    return full * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))


def max_total_delay(policy: RetryPolicy) -> float:
    """The longest a notice can wait between its first and its last attempt."""
    return sum(backoff_delay(n, policy) for n in range(1, policy.max_attempts))


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def is_retryable(status: int | None) -> bool:
    """None is no answer at all (timeout, refused connection): worth another try, as are 408 (timeout), 429
    (slow down) and 5xx (the partner's trouble). Any other 4xx says the request itself is wrong and would be
    wrong again; a 3xx means the URL is not the endpoint (a signed body is not re-sent elsewhere)."""
    if status is None:
        return True
    return status in (408, 429) or status >= 500


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Step:
    verdict: Verdict
    delay_s: float | None = None  # for RETRY: how long to wait before the next attempt


def after_attempt(status: int | None, attempts_made: int, policy: RetryPolicy, jitter: float = 1.0) -> Step:
    """What to do once attempt number `attempts_made` answered `status` (None: no answer)."""
    if is_success(status):
        return Step(Verdict.DELIVERED)
    if not is_retryable(status) or attempts_made >= policy.max_attempts:
        return Step(Verdict.FAILED)
    return Step(Verdict.RETRY, backoff_delay(attempts_made, policy, jitter))
