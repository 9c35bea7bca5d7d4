"""Answers to a stay or a check-in followup never received, on the real broker and store: they change nothing while
they wait, then their senders read why on the dead-letter topic, once.

P is in the PLIE's parcours from day 0. On day 2 the Régie de quartiers sends an exit from its IAE, which P never
entered; on day 3 France Travail answers a check-in, chk-typo, Ariane never issued. Each waits 30 days from the
day after it arrived (until days 33 and 34), and is reported on the next day's tick: day 34 for the exit, day 35
for the check-in answer. Meanwhile and after, P is in the PLIE's parcours and nobody has anything to do.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from conversation import followup
from prometheus_client.parser import text_string_to_metric_families
from builders import at, entered, exited, registered  # noqa: I001 - on the path once conversation is imported

from contracts import topics
from contracts.followup import CheckinDone, CheckinDoneData
from services.runtime.deadletter import DeadLetter
from tests.support.kafka import admin_security

PLIE, REGIE, FT, COORD = "plie_angers", "siae_regie_quartiers", "france_travail_angers_centre", "coordination_territoriale"


async def letters(bootstrap: str, topic: str) -> list[dict]:
    """Every dead letter published so far (committed records, from the beginning to the end seen now)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed", auto_offset_reset="earliest",
                                **admin_security(bootstrap))
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - the topic may be new
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out = []
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            for recs in (await consumer.getmany(timeout_ms=200)).values():
                out += [DeadLetter.parse(r.value) | {"key": r.key.decode() if r.key else None} for r in recs]
        return out
    finally:
        await consumer.stop()


async def dropped_counts(f) -> dict[str, float]:
    """ariane_followup_answers_dropped_total by reason, as followup's /metrics shows it."""
    text = (await f.client.get("/metrics")).text
    return {s.labels["reason"]: s.value for family in text_string_to_metric_families(text)
            if family.name == "ariane_followup_answers_dropped" for s in family.samples
            if s.name.endswith("_total")}


async def test_an_exit_and_a_checkin_answer_that_answer_nothing_are_reported_once(kafka_bootstrap, topic_prefix,
                                                                                 database_url, tmp_path):
    dlq = topic_prefix + topics.DEADLETTER
    typo = CheckinDone(id="P-chk-typo-done", source=FT, subject="P", time=at(3),
                       data=CheckinDoneData(checkin_id="chk-typo", structure_id=FT, reached=True,
                                            situation="in_dispositif"))
    async with followup(kafka_bootstrap, topic_prefix, database_url, tmp_path, (PLIE, REGIE, FT, COORD)) as f:
        async def seen() -> tuple[str, list[tuple]]:
            state = (await f.json("/v1/people/P/timeline", COORD))["state"]
            items = (await f.json("/v1/worklist", COORD))["items"]
            return state, [(i["person_id"], i["kind"]) for i in items]

        await f.day(0)
        await f.send(registered("P", 0))
        await f.send(entered("P", 0, "plie_parcours", PLIE))
        await f.day(1)
        await f.day(2)
        await f.send(exited("P", 2, "iae_regie", REGIE))
        await f.day(3)
        await f.send(typo)
        for n in range(4, 34):
            await f.day(n)
        assert await seen() == ("in_dispositif", [])
        assert [x for x in await letters(kafka_bootstrap, dlq) if x["service"] == "followup"] == []
        assert await dropped_counts(f) == {}

        await f.day(34)
        await f.day(35)
        await f.day(36)
        found: list[dict] = []
        for _ in range(100):  # the relay publishes the outbox row shortly after the tick's commit
            found = [x for x in await letters(kafka_bootstrap, dlq) if x["service"] == "followup"]
            if len(found) >= 2:
                break
            await asyncio.sleep(0.1)
        assert await seen() == ("in_dispositif", [])
        # The operator sees them too, by reason, on followup's /metrics.
        assert await dropped_counts(f) == {"unknown_checkin": 1.0, "unknown_stay": 1.0}

    assert sorted(x["reason"].split(":", 1)[0] for x in found) == ["unknown_checkin", "unknown_stay"]
    stay = next(x for x in found if x["reason"].startswith("unknown_stay"))
    assert "P-iae_regie-2-out" in stay["reason"] and REGIE in stay["reason"] and "iae_regie" in stay["reason"]
    assert stay["key"] == "P"  # keyed by the person, never by a partner's reference
    assert stay["source"]["topic"] == topic_prefix + topics.INTAKE  # the letter of the record it came in
    assert b'"P-iae_regie-2-out"' in stay["original"]
    checkin = next(x for x in found if x["reason"].startswith("unknown_checkin"))
    assert "chk-typo" in checkin["reason"] and FT in checkin["reason"]
