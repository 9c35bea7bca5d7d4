"""Intake's own settings (ARIANE_INTAKE_ prefix): territory, secrets, HTTP limits.

pydantic-settings reads and checks them; the secrets stay wrapped (`SecretStr`) so that no repr or log line
shows them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.territory import DEFAULT_TERRITORY_FILE

DEV_SECRET = "ariane-dev-territory-secret-change-me"
DEV_MASTER_KEY = "ariane-dev-master-key-change-me"


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARIANE_INTAKE_", extra="ignore")

    territory_file: Path = Field(default=DEFAULT_TERRITORY_FILE, description="YAML file of the territory.")
    territory_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRET), min_length=16,
        description="Key of the person_id HMAC; the same for the whole territory, forever.")
    master_key: SecretStr = Field(default=SecretStr(DEV_MASTER_KEY), min_length=16,
                                  description="Wraps every person's vault key and every API signing key.")
    max_batch_events: int = Field(default=500, ge=1, description="Events in one POST /v1/events, above: 413.")
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="Bytes in one request body, above: 413.")
    publish_timeout_s: float = Field(default=10.0, gt=0,
                                     description="How long a request waits for its events to reach Kafka before 503.")
    retry_after_s: int = Field(default=5, ge=1, description="Retry-After of a 503 when Kafka did not confirm.")
    max_events_in_flight: int = Field(
        default=1000, ge=1,
        description="Admission limit: partner events being handled over HTTP at once (from the request read to its "
        "answer). A request that would go past it is answered 503 with Retry-After at once, nothing written; a "
        "request is always taken when nothing else is in flight.")
    busy_retry_after_s: int = Field(default=1, ge=1, description="Retry-After of a 503 past the admission limit, "
                                    "or when the store was too busy to take the request.")
    signature_window_s: int = Field(default=300, ge=1, description="Accepted clock skew of a signed request.")
    pii_firewall: bool = Field(default=True, description="Refuse events holding personal data outside "
                               "data.identity. On in every deployment; off only to prove that a test detects it.")

    @property
    def territory_key(self) -> bytes:
        """The HMAC key of person ids and blind indexes."""
        return self.territory_secret.get_secret_value().encode()

    @property
    def uses_dev_secrets(self) -> bool:
        return (self.territory_secret.get_secret_value() == DEV_SECRET
                or self.master_key.get_secret_value() == DEV_MASTER_KEY)
