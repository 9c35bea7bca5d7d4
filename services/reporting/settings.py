"""Settings of the reporting service (ARIANE_REPORTING_ prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_REPORTING_", extra="ignore")

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE, description="The territory whose figures these are.")
    metrics_refresh_s: float = Field(default=2.0, gt=0, description="How often the metrics' report is recomputed.")
    replay_report_in_child: bool = Field(
        default=True,
        description="The replay computes its report in a forked child, on another core, while it writes the store "
        "(store/forked.py). The child's reading copies the pages of the folded state it walks: the replay's peak "
        "memory can reach twice the state's. Off: the report runs in a thread of the replay's process, slower.")
