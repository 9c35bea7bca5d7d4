"""Followup's own settings (ARIANE_FOLLOWUP_ prefix)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE


class FollowupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_FOLLOWUP_", extra="ignore")

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE)
    tokens: str = Field(default="{}", description='JSON {"<sha256 hex of a bearer token>": "<structure_id>"}; '
                        "the territory coordinator's token sees every structure's worklist.")

    def structure_for(self, token: str) -> str | None:
        table = json.loads(self.tokens or "{}")
        return table.get(hashlib.sha256(token.encode()).hexdigest())
