"""Followup's own settings (ARIANE_FOLLOWUP_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE


class FollowupSettings(BaseSettings):
    # An empty variable means "not set", as it did when the token table was read by hand.
    model_config = SettingsConfigDict(env_prefix="ARIANE_FOLLOWUP_", extra="ignore", env_ignore_empty=True)

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE)
    tokens: dict[str, str] = Field(default_factory=dict, description='JSON {"<sha256 hex of a bearer token>": '
                                   '"<structure_id>"}; the territory coordinator\'s token sees every structure\'s '
                                   "worklist.")
