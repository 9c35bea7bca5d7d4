"""The clock's own settings (ARIANE_CLOCK_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE


class ClockSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_CLOCK_", extra="ignore", env_ignore_empty=True)

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE,
                                 description="The territory whose time zone says when a day starts.")
