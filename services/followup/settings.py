"""Followup's own settings (ARIANE_FOLLOWUP_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE


class FollowupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_FOLLOWUP_", extra="ignore", env_ignore_empty=True)

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE)
    # The referral service's own setting, read under its own name: both services count the same wait, one
    # variable to set. An acceptance of a referral followup has not received holds nobody until the referral
    # comes, and never if it comes after this wait (the referral service has dropped the answer by then).
    referral_answer_wait_days: int = Field(
        default=30, ge=1, le=366, validation_alias="ARIANE_REFERRAL_ANSWER_WAIT_DAYS",
        description="ARIANE_REFERRAL_ANSWER_WAIT_DAYS, the referral service's: how long an answer waits for its "
        "referral. The default must stay the referral service's (a unit test compares them).")
