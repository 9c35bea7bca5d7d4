"""Who the test fixtures are on the broker: the ``admin`` principal (see services.runtime.kafka_security)."""

from __future__ import annotations

from typing import Any

from services.runtime.kafka_security import ADMIN, client_security


def admin_security(bootstrap: str) -> dict[str, Any]:
    """Security keyword arguments of an aiokafka client of a test fixture: the admin principal of the session's
    broker (nothing for a PLAINTEXT broker given by KAFKA_BOOTSTRAP without credentials)."""
    return client_security(bootstrap, ADMIN)
