"""A private topic namespace per test on the shared broker, so tests never read each other's events."""

from __future__ import annotations

import uuid

import pytest

from local.kafka import ensure_topics


@pytest.fixture
async def topic_prefix(kafka_bootstrap: str) -> str:
    """A fresh prefix with every Ariane topic created under it (3 partitions, the clock 1)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(kafka_bootstrap, partitions=3, prefix=prefix)
    return prefix
