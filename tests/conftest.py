"""Repo-wide fixtures. Import-cheap: nothing here starts a broker unless a test asks for one.

``kafka_bootstrap`` (session) is a real Apache Kafka broker: the one at
``KAFKA_BOOTSTRAP`` when set, else a local KRaft node started from Kafka's jars
in a session temp dir on free loopback ports, and stopped at the end. Tests
using it are marked ``kafka`` automatically (``-m "not kafka"`` skips them).

The local broker authenticates every client (SASL/SCRAM) and authorizes by ACL. In this process, services
find their own credentials by the broker's address; the processes a test starts find them through
``ARIANE_KAFKA_CREDENTIALS_DIR``; fixtures and direct clients use ``tests.support.kafka.admin_security``.
"""

from __future__ import annotations

pytest_plugins = ["tests.support.databases", "tests.support.topics"]

import atexit
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from local import kafka as kafka_local

# Hypothesis' per-example deadline is a timed assertion: on a busy machine it fails properties that hold.
# Speed is measured by the benchmarks, never by the suite.
hypothesis_settings.register_profile("ariane", deadline=None)
hypothesis_settings.load_profile("ariane")

_BROKER_LINE = pytest.StashKey[str]()


def pytest_report_header(config: pytest.Config) -> str:
    external = os.environ.get("KAFKA_BOOTSTRAP", "").strip()
    if external:
        return f"kafka: KAFKA_BOOTSTRAP={external}"
    try:
        pinned = kafka_local.runtime_version()
    except kafka_local.KafkaRuntimeError as exc:
        pinned = f"unknown ({exc})"
    return f"kafka: local Apache Kafka {pinned}, started only if a test needs it"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test marked store_independent checks something the store cannot change (that the comparison can fail,
    # that a preset reproduces a seed's table): CI's short run (ARIANE_STORE_INDEPENDENT_ONCE=1) gives it the
    # SQLite half only; `make test` runs it on whichever store it is given.
    once = os.environ.get("ARIANE_STORE_INDEPENDENT_ONCE") == "1"
    on_postgres = os.environ.get("ARIANE_DATABASE_URL", "").startswith("postgresql")
    for item in items:
        if {"kafka_bootstrap", "local_kafka"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kafka)
        if once and on_postgres and item.get_closest_marker("store_independent"):
            item.add_marker(pytest.mark.skip(reason="store-independent: run once, on SQLite, in this short run"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    line = config.stash.get(_BROKER_LINE, None)
    if line:
        terminalreporter.write_sep("-", "kafka")
        terminalreporter.write_line(f"kafka broker: {line}")


@pytest.fixture(scope="session")
def local_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[kafka_local.LocalKafka | None]:
    """The LocalKafka this session started, or None when KAFKA_BOOTSTRAP names a broker."""
    if os.environ.get("KAFKA_BOOTSTRAP", "").strip():
        yield None
        return
    broker = kafka_local.LocalKafka(tmp_path_factory.mktemp("kafka"), die_with_parent=True)
    atexit.register(broker.stop)  # even if the session dies before fixture teardown
    try:
        # Generous: formatting the storage and the JVM's start took over 60 s at a load average of 30 (two CI
        # halves side by side); a healthy machine needs about 10 s, and the wait ends as soon as it answers.
        broker.start(timeout=240)
    except kafka_local.KafkaRuntimeError as exc:
        pytest.fail(f"could not start the local Kafka broker: {exc}", pytrace=False)
    os.environ["ARIANE_KAFKA_CREDENTIALS_DIR"] = str(broker.credentials_dir)  # for the processes tests start
    try:
        yield broker
    finally:
        os.environ.pop("ARIANE_KAFKA_CREDENTIALS_DIR", None)
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(local_kafka: kafka_local.LocalKafka | None, pytestconfig: pytest.Config) -> str:
    """Bootstrap address of a real broker that has every topic of the system."""
    bootstrap = local_kafka.bootstrap if local_kafka else os.environ["KAFKA_BOOTSTRAP"].strip()
    try:
        kafka_local.ensure_topics_sync(bootstrap)
        info = kafka_local.describe_sync(bootstrap, local_kafka.data_dir if local_kafka else None)
    except kafka_local.KafkaRuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    how = f"local, started in {local_kafka.start_seconds:.1f} s" if local_kafka else "from KAFKA_BOOTSTRAP"
    pytestconfig.stash[_BROKER_LINE] = f"{info.version} at {bootstrap} ({how})"
    return bootstrap


@pytest.fixture
def unique_topic(kafka_bootstrap: str) -> Callable[..., Awaitable[str]]:
    """Factory: ``await unique_topic(partitions=3)`` creates a fresh topic and returns its name."""

    async def make(partitions: int = 1, prefix: str = "test") -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:12]}"
        await kafka_local.create_topics(kafka_bootstrap, {name: partitions})
        return name

    return make
