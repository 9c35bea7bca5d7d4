"""Settings of the referral service (ARIANE_REFERRAL_ prefix)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE
from services.runtime.backoff import Backoff


@dataclass(frozen=True)
class RetryPolicy:
    """How patiently a webhook notice is retried: the runtime's back-off (base, doubled, capped), bounded in
    attempts."""

    max_attempts: int = 8
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay_s <= 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError(f"invalid retry policy: {self}")

    @property
    def backoff(self) -> Backoff:
        return Backoff(base_s=self.base_delay_s, ceiling_s=self.max_delay_s, attempts=self.max_attempts)


class ReferralSettings(BaseSettings):
    # An empty variable (compose passes variables through even when unset) means the default.
    model_config = SettingsConfigDict(env_prefix="ARIANE_REFERRAL_", extra="ignore", env_ignore_empty=True)

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE, description="The territory file to orient by.")
    webhook_secrets: dict[str, str] = Field(
        default_factory=dict,
        description='Webhook signing secrets as JSON {"<structure id>": "<secret>"}. Every structure with a '
        "webhook_url in the territory file needs one, or the service refuses to start.")
    answer_wait_days: int = Field(
        default=30, ge=1, le=366,
        description="Days of the territory's clock an answer waits for a referral not received yet before it is "
        "dead-lettered (unknown_referral). 30: the territory's accept ceiling, and three times the lateness "
        "partners show (events recorded up to 10 days after they happened).")
    webhook_max_attempts: int = Field(default=8, ge=1, le=50, description="Attempts of a notice before it fails.")
    webhook_base_delay_s: float = Field(default=30.0, gt=0, description="Wait after the first failed attempt.")
    webhook_max_delay_s: float = Field(default=3600.0, gt=0, description="Longest wait between two attempts.")
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one POST.")
    webhook_poll_s: float = Field(default=1.0, gt=0, description="Pause of the delivery loop with nothing due.")
    webhook_batch: int = Field(default=20, ge=1, le=500, description="Notices sent concurrently at most.")

    @field_validator("webhook_secrets", mode="before")
    @classmethod
    def _a_json_object(cls, value: Any, info: ValidationInfo) -> Any:
        """The environment gives JSON, decoded by pydantic-settings; anything but an object is refused by name."""
        if not isinstance(value, dict):
            raise ValueError(f"ARIANE_REFERRAL_{info.field_name.upper()} must be a JSON object")
        return {str(k): str(v) for k, v in value.items()}

    def webhook_secret_table(self) -> dict[str, str]:
        return dict(self.webhook_secrets)

    def webhook_retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.webhook_max_attempts, base_delay_s=self.webhook_base_delay_s,
                           max_delay_s=max(self.webhook_max_delay_s, self.webhook_base_delay_s))
