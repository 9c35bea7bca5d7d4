"""Followup's own settings (ARIANE_FOLLOWUP_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE


class FollowupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_FOLLOWUP_", extra="ignore", env_ignore_empty=True)

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE)
