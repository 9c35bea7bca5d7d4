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
    # Followup's own: arrival order is not guaranteed, so an exit, a job end or a check-in answer whose stay, job
    # or check-in followup has not received waits for it this long, changing nothing, then is dropped and
    # reported to its sender on the dead-letter topic (domain/unknown_facts.py). Counted as an answer to a
    # referral waits for its referral, and as long by default.
    fact_wait_days: int = Field(
        default=30, ge=1, le=366,
        description="ARIANE_FOLLOWUP_FACT_WAIT_DAYS: how long an answer to a stay, a job or a check-in followup "
        "has not received waits for it before it is dropped and reported (unknown_stay, unknown_job, "
        "unknown_checkin).")
