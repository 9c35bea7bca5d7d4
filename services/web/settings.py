"""The web page's own settings (ARIANE_WEB_ prefix): where the services it calls answer, and its sessions."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_WEB_", extra="ignore", env_ignore_empty=True)

    followup_url: str = Field(default="http://127.0.0.1:8103", description="Followup's API: worklist, timeline.")
    intake_url: str = Field(default="http://127.0.0.1:8101", description="Intake's API: where answers are posted.")
    reporting_url: str = Field(default="http://127.0.0.1:8104", description="Reporting's API: the report.")
    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE,
                                 description="Structure names and the time zone of the territory.")
    session_idle_s: int = Field(default=8 * 3600, ge=60, description="A session unused this long is forgotten.")
    max_sessions: int = Field(default=10_000, ge=10, description="Beyond this, the least recently used goes.")
    cookie_secure: bool = Field(default=False, description="Send the session cookie over HTTPS only: true behind "
                                "TLS (any deployment); false only for the page on the local machine over http.")
    upstream_timeout_s: float = Field(default=15.0, gt=0)
