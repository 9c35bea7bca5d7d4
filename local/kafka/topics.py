"""The system's topics on a broker: created once with their partition counts, leaders and coordinators ready."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from contracts.topics import ALL_TOPICS, SINGLE_PARTITION_TOPICS, inbound_topics
from local.kafka.clients import admin, human_errors, run_sync
from local.kafka.errors import KafkaRuntimeError
from services.runtime.backoff import Backoff

TOPIC_ALREADY_EXISTS = 36
# Coordinators appear once their internal topics have leaders: ask again five times a second until the deadline.
COORDINATOR_RETRY = Backoff(base_s=0.2, ceiling_s=0.2)


def topic_plan(partitions: int = 6, prefix: str = "", territory_file: Path = DEFAULT_TERRITORY_FILE) -> dict[str, int]:
    """Every topic of the system (names prefixed by ``prefix``) with its partition count, the clock with 1:
    Ariane's own topics, and one inbound topic per structure of the territory file (each partner's own)."""
    partners = inbound_topics(s.id for s in load_territory(territory_file).structures)
    return {prefix + name: (1 if name in SINGLE_PARTITION_TOPICS else partitions) for name in (*ALL_TOPICS, *partners)}


async def create_topics(bootstrap: str, wanted: Mapping[str, int], timeout: float = 30) -> list[str]:
    """Create each ``name -> partitions`` topic that does not exist yet (waiting for their leaders).

    Idempotent; returns the names it created. Client failures raise KafkaRuntimeError.
    """
    return await human_errors(bootstrap, _create_topics(bootstrap, wanted, timeout))


async def _create_topics(bootstrap: str, wanted: Mapping[str, int], timeout: float) -> list[str]:
    from aiokafka.admin import NewTopic

    client = admin(bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await client.start()
        existing = set(await client.list_topics())
        missing = [NewTopic(name, partitions, 1) for name, partitions in wanted.items() if name not in existing]
        created: list[str] = []
        if missing:
            response = await client.create_topics(missing, timeout_ms=int(timeout * 1000))
            errors = []
            for entry in response.topic_errors:
                name, code = entry[0], entry[1]
                if code == 0:
                    created.append(name)
                elif code != TOPIC_ALREADY_EXISTS:
                    message = entry[2] if len(entry) > 2 else ""
                    errors.append(f"{name}: error {code} {message or ''}".strip())
            if errors:
                raise KafkaRuntimeError("could not create topics: " + "; ".join(errors))
        # creation is acknowledged by the controller; wait until the broker serves leaders for all of them
        deadline = time.monotonic() + timeout
        names = list(wanted)
        while True:
            topics = await client.describe_topics(names)
            ready = all(
                t.get("error_code", 0) == 0 and t["partitions"] and all(p[0] == 0 and p[2] >= 0 for p in _parts(t))
                for t in topics
            ) and len(topics) == len(names)
            if ready:
                return created
            if time.monotonic() >= deadline:
                raise KafkaRuntimeError(f"topics {names} have no leader after {timeout:.0f} s")
            await asyncio.sleep(0.1)
    finally:
        await client.close()


def _parts(topic: Mapping[str, Any]) -> list[tuple[int, int, int]]:
    """(error_code, partition, leader) for each partition of a metadata topic entry."""
    out = []
    for p in topic["partitions"]:
        if isinstance(p, Mapping):
            out.append((p.get("error_code", 0), p.get("partition_index", p.get("partition", 0)),
                        p.get("leader_id", p.get("leader", -1))))
        else:
            out.append((p[0], p[1], p[2]))
    return out


def topic_partitions(metadata_topics: list[dict[str, Any]]) -> dict[str, int]:
    """Partition count of each topic in a metadata answer, the broker's internal topics left out."""
    return {
        t["topic"]: len(t["partitions"])
        for t in metadata_topics
        if t.get("error_code", 0) == 0 and not t.get("is_internal", False) and not t["topic"].startswith("__")
    }


async def ensure_topics(bootstrap: str, partitions: int = 6, prefix: str = "", timeout: float = 120,
                        territory_file: Path = DEFAULT_TERRITORY_FILE) -> list[str]:
    """Create the topics of ``topic_plan`` that are absent (ALL_TOPICS, the clock with one partition, and each
    partner's inbound topic) and grant the principals their ACLs on them (local.kafka.security); idempotent.
    Returns the topics created.

    ``prefix`` gives a private namespace of the same topics (e.g. one per test on a shared broker). ``timeout``
    bounds each wait (creation, ACLs, coordinators); each ends as soon as the broker has done it, and a broker
    on a loaded machine (a load average of 30) took over 30 s to apply the ACLs.
    """
    from local.kafka.security import grant

    created = await create_topics(bootstrap, topic_plan(partitions, prefix, territory_file), timeout=timeout)
    await grant(bootstrap, prefix, timeout=timeout, territory_file=territory_file)
    await wait_coordinators(bootstrap, timeout=timeout)
    return created


def ensure_topics_sync(bootstrap: str, partitions: int = 6, prefix: str = "", timeout: float = 120,
                       territory_file: Path = DEFAULT_TERRITORY_FILE) -> list[str]:
    """:func:`ensure_topics` for synchronous callers (the CLI, session fixtures)."""
    return run_sync(ensure_topics(bootstrap, partitions, prefix, timeout, territory_file))


async def wait_coordinators(bootstrap: str, timeout: float = 30) -> None:
    """Wait until the group and transaction coordinators answer.

    On a fresh broker the internal offsets and transaction-state topics are created on first use; until
    then coordinator look-ups fail, and aiokafka's transactional offset commit can stall instead of
    retrying. Asking once for each coordinator here creates those topics and waits for their leaders.
    """
    from aiokafka.errors import KafkaError

    client = admin(bootstrap)
    await client.start()
    try:
        deadline = time.monotonic() + timeout

        def until_deadline(exc: BaseException) -> bool:
            return isinstance(exc, KafkaError) and time.monotonic() <= deadline

        for coordinator_type in (0, 1):  # 0: consumer groups, 1: transactions
            try:
                await COORDINATOR_RETRY.call(lambda kind=coordinator_type: client.find_coordinator("ariane-warm-up", kind),
                                             retry_on=until_deadline)
            except KafkaError as exc:
                raise KafkaRuntimeError(f"Kafka at {bootstrap}: coordinators not available: {exc}") from exc
    finally:
        await client.close()
