"""Settings of the referral service (ARIANE_REFERRAL_ prefix)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE
from services.referral.webhooks import RetryPolicy


class ReferralSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_REFERRAL_", extra="ignore")

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE, description="The territory file to orient by.")
    tokens: str = Field(
        default="{}",
        description='Read API credentials as JSON {"<sha256 of the bearer token, hex>": "<structure id>"}. A token '
        "mapped to the territory coordinator sees every referral; any other sees those sent to its structure.")

    webhook_secrets: str = Field(
        default="{}",
        description='Webhook signing secrets as JSON {"<structure id>": "<secret>"}. Every structure with a '
        "webhook_url in the territory file needs one, or the service refuses to start.")
    webhook_max_attempts: int = Field(default=8, ge=1, le=50, description="Attempts of a notice before it fails.")
    webhook_base_delay_s: float = Field(default=30.0, gt=0, description="Wait after the first failed attempt.")
    webhook_max_delay_s: float = Field(default=3600.0, gt=0, description="Longest wait between two attempts.")
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one POST.")
    webhook_poll_s: float = Field(default=1.0, gt=0, description="Pause of the delivery loop with nothing due.")
    webhook_batch: int = Field(default=20, ge=1, le=500, description="Notices sent concurrently at most.")

    def webhook_secret_table(self) -> dict[str, str]:
        table = json.loads(self.webhook_secrets or "{}")
        if not isinstance(table, dict):
            raise ValueError("ARIANE_REFERRAL_WEBHOOK_SECRETS must be a JSON object")
        return {str(k): str(v) for k, v in table.items()}

    def webhook_retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.webhook_max_attempts, base_delay_s=self.webhook_base_delay_s,
                           max_delay_s=max(self.webhook_max_delay_s, self.webhook_base_delay_s))

    def token_table(self) -> dict[str, str]:
        table = json.loads(self.tokens or "{}")
        if not isinstance(table, dict):
            raise ValueError("ARIANE_REFERRAL_TOKENS must be a JSON object")
        return {str(k).lower(): str(v) for k, v in table.items()}
