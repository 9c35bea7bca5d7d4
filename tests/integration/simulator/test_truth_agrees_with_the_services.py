"""The ground truth against the real services: a small year through intake, referral and followup on the
real broker, and the people followup declares lost are exactly the ones the stories were scripted to lose
(who, why, since when, detected which day, who must act; simulator/recorded.py), with the same referral
expiries. A difference is printed person by person (who, which day, expected and reported).

The full comparison of every report figure is the end-to-end suite's job."""

from __future__ import annotations

import time
from contextlib import AsyncExitStack

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from contracts.events import parse_event
from services.followup.app import definition as followup_definition
from services.intake.app import definition as intake_definition
from services.referral.app import definition as referral_definition
from local.drain import CaughtUp
from simulator.driver import drive
from simulator.senders import KafkaSender
from simulator.year import simulate
from tests.e2e.figures import LOST_FIELDS, render_people
from tests.support.kafka import admin_security
from tests.support.services import running_service, test_settings


async def _read(bootstrap: str, names: list[str]) -> list:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **admin_security(bootstrap), group_id=None, isolation_level="read_committed")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001
        parts = [TopicPartition(n, p) for n in names for p in consumer.partitions_for_topic(n)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        records = []
        deadline = time.monotonic() + 30
        while any([await consumer.position(tp) < ends[tp] for tp in parts]) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


# store_independent: followup's rules against the scripted truth; on PostgreSQL the e2e years (territory, late
# partners) make the same comparison through the same services.
@pytest.mark.slow
@pytest.mark.store_independent
async def test_followup_finds_exactly_the_lost_people_of_the_truth(kafka_bootstrap: str, topic_prefix: str,
                                                                  database_url_factory) -> None:  # noqa: ANN001
    year = simulate("territory", people=60, seed=8, days=240)
    truth = year.truth()
    async with AsyncExitStack() as stack:
        for name, defn in (("intake", intake_definition()), ("referral", referral_definition()), ("followup", followup_definition())):
            settings = test_settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix,
                                     database_url=await database_url_factory(name))
            await stack.enter_async_context(running_service(defn, settings))
        quiet = await stack.enter_async_context(
            CaughtUp(kafka_bootstrap, topic_prefix, services=("intake", "referral", "followup")))
        sender = KafkaSender(kafka_bootstrap, topic_prefix, resolve_timeout_s=10,
                             security=admin_security(kafka_bootstrap))
        await sender.start()
        try:
            await drive(year.stream(), sender, drained=quiet)
        finally:
            await sender.stop()
        records = await _read(kafka_bootstrap, [topic_prefix + t for t in
                                                (topics.FOLLOWUP, topics.REFERRAL, topics.DEADLETTER)])
    assert sender.unresolved == 0, sender.unresolved_examples
    ref_of = {sender.directory.person_by_event[reg]: ref for ref, (_s, reg) in sender.rewriter.registrar.items()}
    dead = [r.value[:200] for r in records if r.topic.endswith(topics.DEADLETTER)]
    events = [parse_event(r.value) for r in records if not r.topic.endswith(topics.DEADLETTER)]
    lost = {(ref_of[e.subject], str(e.data.reason), e.data.since.isoformat(), e.data.detected_on.isoformat(),
             e.data.structure_to_act) for e in events if e.type.endswith("person.lost")}
    expected = {(r["partner_ref"], r["reason"], r["since"], r["detected_on"], r["structure_to_act"])
                for r in truth["lost"]}
    assert dead == []
    assert lost == expected, render_people(by_person(expected), by_person(lost), LOST_FIELDS,
                                           reported_as="followup")
    assert len(expected) >= 3
    expired = sum(1 for e in events if e.type.endswith("referral.expired"))
    outcomes = truth["report"]["referral_outcomes"]
    assert expired == sum(o.get("expired", 0) + o.get("accepted_late", 0) for o in outcomes.values())


def by_person(rows: set[tuple[str, ...]]) -> dict[str, set[tuple[str, ...]]]:
    """(partner_ref, *fields) rows -> partner_ref -> {fields}, as render_people shows them."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for ref, *rest in rows:
        out.setdefault(ref, set()).add(tuple(rest))
    return out
