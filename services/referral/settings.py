"""Settings of the referral service (ARIANE_REFERRAL_ prefix)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE


class ReferralSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_REFERRAL_", extra="ignore")

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE, description="The territory file to orient by.")
    tokens: str = Field(
        default="{}",
        description='Read API credentials as JSON {"<sha256 of the bearer token, hex>": "<structure id>"}. A token '
        "mapped to the territory coordinator sees every referral; any other sees those sent to its structure.")

    def token_table(self) -> dict[str, str]:
        table = json.loads(self.tokens or "{}")
        if not isinstance(table, dict):
            raise ValueError("ARIANE_REFERRAL_TOKENS must be a JSON object")
        return {str(k).lower(): str(v) for k, v in table.items()}
