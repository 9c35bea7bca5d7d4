"""Who a Kafka client is: the one place that builds the security arguments of every aiokafka client.

A client authenticates as a *principal*: a service as itself (``intake``, ``referral``, ...), the tooling and
test fixtures as ``admin``, a partner as ``partner-<structure id>``. The arguments come, in this order, from:

1. explicit settings: ``ARIANE_KAFKA_USERNAME`` / ``ARIANE_KAFKA_PASSWORD`` (with ``ARIANE_KAFKA_SECURITY_PROTOCOL``,
   default SASL_PLAINTEXT, and ``ARIANE_KAFKA_SASL_MECHANISM``, default SCRAM-SHA-512): a deployed broker;
2. ``ARIANE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT``: no authentication at all (a broker given by KAFKA_BOOTSTRAP
   without credentials);
3. a *credentials directory* holding one ``<principal>.json`` per principal (``{"username", "password",
   "mechanism"}``, readable by its owner only), as the local broker writes them: the directory a broker started
   (or adopted) by this process registered for that bootstrap, else ``ARIANE_KAFKA_CREDENTIALS_DIR``, else
   ``<var_dir>/kafka/credentials`` when the bootstrap is the local broker's published one;
4. none of these: PLAINTEXT.

``ARIANE_KAFKA_PRINCIPAL`` replaces the principal name looked up in a credentials directory (a test double
that is no real service runs as ``admin``). Read by path and format: the runtime needs none of the tooling.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.runtime.settings import RuntimeSettings

SCRAM_SHA_512 = "SCRAM-SHA-512"
ADMIN = "admin"
CREDENTIALS_DIR = "credentials"  # beside the broker's broker.json

# bootstrap -> credentials directory, for brokers this process started or adopted (the tests, the pipeline)
_registered: dict[str, Path] = {}


class KafkaSecurityError(RuntimeError):
    """The settings ask for authentication but do not say as whom, or the credentials cannot be read."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    mechanism: str = SCRAM_SHA_512

    def client_kwargs(self, protocol: str = "SASL_PLAINTEXT") -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        kwargs: dict[str, Any] = {"security_protocol": protocol, "sasl_mechanism": self.mechanism,
                                  "sasl_plain_username": self.username, "sasl_plain_password": self.password}
        if protocol == "SASL_SSL":
            from aiokafka.helpers import create_ssl_context

            kwargs["ssl_context"] = create_ssl_context()
        return kwargs


def write_credentials(path: Path, credentials: Credentials) -> None:
    """Write ``path`` readable and writable by its owner only (created so, never world-readable for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"username": credentials.username, "password": credentials.password,
                   "mechanism": credentials.mechanism}, f)
        f.write("\n")
    tmp.replace(path)


def read_credentials(path: Path) -> Credentials | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(str(data["username"]), str(data["password"]), str(data.get("mechanism", SCRAM_SHA_512)))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def register_credentials_dir(bootstrap: str, directory: Path) -> None:
    """Remember, for this process, where the credentials of the broker at ``bootstrap`` are."""
    _registered[bootstrap] = Path(directory)


def credentials_dir_for(bootstrap: str, settings: RuntimeSettings | None = None) -> Path | None:
    """Where the principals' credentials of the broker at ``bootstrap`` are, if they are anywhere."""
    if bootstrap in _registered:  # a broker this process started or adopted knows best
        return _registered[bootstrap]
    settings = settings or RuntimeSettings()
    if settings.kafka_credentials_dir is not None:
        return settings.kafka_credentials_dir
    state = settings.var_dir / "kafka" / "broker.json"
    try:
        published = json.loads(state.read_text(encoding="utf-8")).get("bootstrap")
    except (OSError, ValueError, AttributeError):
        return None
    directory = state.parent / CREDENTIALS_DIR
    return directory if published == bootstrap and directory.is_dir() else None


def client_security(bootstrap: str, principal: str, settings: RuntimeSettings | None = None) -> dict[str, Any]:
    """The security keyword arguments of an aiokafka client talking to ``bootstrap`` as ``principal``."""
    settings = settings or RuntimeSettings()
    protocol = (settings.kafka_security_protocol or "").upper()
    if settings.kafka_username:
        if settings.kafka_password is None:
            raise KafkaSecurityError("ARIANE_KAFKA_USERNAME is set without ARIANE_KAFKA_PASSWORD")
        credentials = Credentials(settings.kafka_username, settings.kafka_password.get_secret_value(),
                                  settings.kafka_sasl_mechanism)
        return credentials.client_kwargs(protocol or "SASL_PLAINTEXT")
    if protocol == "PLAINTEXT":
        return {}
    directory = credentials_dir_for(bootstrap, settings)
    if directory is None:
        if protocol:
            raise KafkaSecurityError(f"ARIANE_KAFKA_SECURITY_PROTOCOL={protocol} needs ARIANE_KAFKA_USERNAME and "
                                     "ARIANE_KAFKA_PASSWORD, or ARIANE_KAFKA_CREDENTIALS_DIR")
        return {}
    name = settings.kafka_principal or principal
    credentials = read_credentials(directory / f"{name}.json")
    if credentials is None:
        raise KafkaSecurityError(f"no Kafka credentials for principal {name!r} in {directory}")
    return credentials.client_kwargs(protocol or "SASL_PLAINTEXT")


def faststream_security(kwargs: Mapping[str, Any]) -> Any:
    """The same arguments as FastStream wants them (its KafkaBroker takes a security object, not kwargs)."""
    if not kwargs:
        return None
    from faststream.security import SASLPlaintext, SASLScram256, SASLScram512

    kind = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}[
        kwargs["sasl_mechanism"]]
    return kind(username=kwargs["sasl_plain_username"], password=kwargs["sasl_plain_password"],
                ssl_context=kwargs.get("ssl_context"), use_ssl=kwargs["security_protocol"] == "SASL_SSL")
