"""The referral store: the tables, the people and their referrals, the webhook queue."""

from services.referral.store.people import current_id, load_person, people_due, referrals
from services.referral.store.rows import (
    PersonRow,
    ReferralRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    metadata,
    tables,
)
from services.referral.store.webhook_queue import (
    DELIVERED,
    FAILED,
    PENDING,
    Attempt,
    Claimed,
    add_webhook_delivery,
    claim_due,
    record_attempt,
)

__all__ = [
    "DELIVERED", "FAILED", "PENDING", "Attempt", "Claimed", "PersonRow", "ReferralRow", "WebhookAttemptRow",
    "WebhookDeliveryRow", "add_webhook_delivery", "claim_due", "current_id", "load_person",
    "metadata", "people_due", "record_attempt", "referrals", "tables",
]
