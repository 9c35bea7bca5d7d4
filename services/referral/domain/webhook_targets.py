"""Who is notified by webhook, and whether the webhook configuration can work at all. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from contracts.envelope import Envelope
from contracts.referrals import ReferralExpired, ReferralIssued, ReferralReminderSent
from contracts.territory import Territory


class WebhookConfigError(ValueError):
    """Webhook settings that cannot work (a URL with no secret to sign with, a secret for nobody)."""


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
