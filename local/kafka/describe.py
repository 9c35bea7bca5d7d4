"""What a broker is: its version and its topics with their partition counts (``ariane kafka status``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from local.kafka.broker import LocalKafka
from local.kafka.clients import admin, human_errors, run_sync
from local.kafka.config import LOOPBACK, default_data_dir
from local.kafka.topics import topic_partitions


@dataclass(frozen=True)
class BrokerDescription:
    bootstrap: str
    version: str
    topics: dict[str, int] = field(default_factory=dict)
    local: bool = False


# newest API key a Kafka release added, newest first: a lower bound when nothing better is known
_API_MARKERS = ((80, "3.9"), (75, "3.8"), (74, "3.7"), (68, "3.6"), (60, "3.0"), (57, "2.7"))


async def _api_versions(bootstrap: str) -> dict[int, tuple[int, int]]:
    """``api key -> (min, max) version`` the broker offers, asked with an ApiVersions request of our own."""
    from aiokafka.conn import create_conn
    from aiokafka.protocol.admin import ApiVersionRequest

    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    conn = await create_conn(host or LOOPBACK, int(port), request_timeout_ms=5000)
    try:
        response = await conn.send(ApiVersionRequest())
    finally:
        conn.close()
    return {key: (low, high) for key, low, high in response.api_versions}


async def _version_from_api(bootstrap: str) -> str:
    versions = await _api_versions(bootstrap)
    produce = versions.get(0)
    if produce is not None and produce[0] >= 3:
        return "Apache Kafka >= 4.0 (from API versions)"
    for key, release in _API_MARKERS:
        if key in versions:
            return f"Apache Kafka >= {release} (from API versions)"
    return "Apache Kafka (version unknown)"


async def describe(bootstrap: str, data_dir: Path | None = None) -> BrokerDescription:
    """Broker version and every (non-internal) topic with its partition count.

    The version comes from ``data_dir/broker.json`` when ``bootstrap`` is that local
    broker, else a lower bound is inferred from the API versions the broker offers.
    """
    return await human_errors(bootstrap, _describe(bootstrap, data_dir))


async def _describe(bootstrap: str, data_dir: Path | None) -> BrokerDescription:
    state = LocalKafka(data_dir or default_data_dir()).live_state()
    local = state is not None and state.get("bootstrap") == bootstrap
    client = admin(bootstrap)
    try:
        await client.start()
        topics = topic_partitions(await client.describe_topics())
    finally:
        await client.close()
    if local:
        version = f"Apache Kafka {state['version']}"
    else:
        try:
            version = await _version_from_api(bootstrap)
        except Exception as exc:  # noqa: BLE001 - the version is informative only
            version = f"Apache Kafka (version unknown: {exc})"
    return BrokerDescription(bootstrap=bootstrap, version=version, topics=dict(sorted(topics.items())), local=local)


def describe_sync(bootstrap: str, data_dir: Path | None = None) -> BrokerDescription:
    """:func:`describe` for synchronous callers."""
    return run_sync(describe(bootstrap, data_dir))
