"""An identity review as the coordinator lives it, on the real broker and store.

Anne is registered twice: by France Travail as A, then by the Mission locale as B, without a NIR, so intake
cannot be sure and opens a review. B's referral expires unanswered and, on the facts of B alone, B is lost;
but B may be A, whom France Travail holds: until the coordinator decides, no alert goes out for B and the
coordinator's worklist shows the review instead. Deciding "different people" lets B's alerts through at
once; deciding "same person" (then the merge) closes the review with no alert for B at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "followup"))
from builders import START, at, entered, expired, issued, registered, tick  # noqa: E402

from contracts import topics  # noqa: E402
from contracts.envelope import Envelope  # noqa: E402
from contracts.identity import (IdentityReviewDecided, IdentityReviewDecidedData, IdentityReviewOpened,  # noqa: E402
                                IdentityReviewOpenedData)
from contracts.people import PersonIdentitiesMerged, PersonIdentitiesMergedData  # noqa: E402
from services.followup.app import definition  # noqa: E402
from services.followup.store import ClockRow  # noqa: E402
from tests.support.kafka import admin_security  # noqa: E402
from tests.support.services import running_service  # noqa: E402
from tests.support.services import test_settings as make_settings  # noqa: E402

COORD = "coordination_territoriale"
TOKEN = "coord-secret"


async def poll(check, deadline_s: float = 30.0):
    end = time.monotonic() + deadline_s
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < end, "deadline passed"
        await asyncio.sleep(0.05)


def opened() -> IdentityReviewOpened:
    return IdentityReviewOpened(id="rev-open-b", source="ariane/intake", subject="B", time=at(1),
                                data=IdentityReviewOpenedData(review_id="rev-b-a", person_id="B",
                                                              other_person_id="A",
                                                              matched=["last_name", "first_names", "birth_date"],
                                                              missing=["nir"]))


def decided(decision: str) -> IdentityReviewDecided:
    return IdentityReviewDecided(id=f"rev-decided-{decision}", source="ariane/intake", subject="B", time=at(47),
                                 data=IdentityReviewDecidedData(review_id="rev-b-a", person_id="B",
                                                                other_person_id="A", decision=decision,
                                                                decided_by=COORD))


@pytest.mark.parametrize("decision", ["different_people", "same_person"])
async def test_a_pending_review_holds_back_the_alerts_of_the_newer_id(decision, kafka_bootstrap, topic_prefix,
                                                                      database_url, monkeypatch):
    monkeypatch.setenv("ARIANE_FOLLOWUP_TOKENS", json.dumps({hashlib.sha256(TOKEN.encode()).hexdigest(): COORD}))
    settings = make_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix)
    async with running_service(definition(), settings) as (app, client):
        ctx = app.state.ctx
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap),
                                    enable_idempotence=True)
        await producer.start()

        async def send(event: Envelope, topic: str = topics.INTAKE) -> None:
            await producer.send_and_wait(topic_prefix + topic, event.to_json_bytes(), key=event.subject.encode())

        async def alerts_for(person: str) -> list[str]:
            async with ctx.session_factory() as s:
                rows = (await s.execute(select(ctx.tables.outbox.c.event_type).where(
                    ctx.tables.outbox.c.key == person))).scalars().all()
            return sorted(t.rsplit(".", 1)[1] for t in rows if t.endswith(("at_risk", "lost")))

        async def worklist() -> list[tuple[str, str, str | None]]:
            body = (await client.get("/v1/worklist", headers={"Authorization": f"Bearer {TOKEN}"})).json()
            return [(i["person_id"], i["kind"], i["answer_id"]) for i in body["items"]]

        try:
            await send(registered("A", 0))
            await send(entered("A", 0, "plie_parcours", "plie_angers"))
            await send(registered("B", 0, structure="mission_locale_angevine"))
            await send(issued("B", 0, "ref-b"), topics.REFERRAL)
            await send(opened())
            await send(expired("B", 15, "ref-b", due_day=15), topics.REFERRAL)
            for n in range(0, 47):
                await send(tick(n), topics.CLOCK)

            async def ticked():
                async with ctx.session_factory() as s:
                    row = await s.get(ClockRow, 1)
                    return row is not None and (row.today - START).days == 46

            await poll(ticked)
            # Day 46: on B's own facts B would be lost (since day 15), but the review is pending.
            assert await alerts_for("B") == []
            lines = await worklist()
            assert ("B", "identity_review", "rev-b-a") in lines and not [x for x in lines if x[1] == "lost"]
            review_line = next(i for i in (await client.get("/v1/worklist?kind=identity_review", headers={
                "Authorization": f"Bearer {TOKEN}"})).json()["items"])
            assert "date de naissance" in review_line["expected"] and "A" in review_line["expected"]
            assert (await client.get("/v1/ledger")).json()["identity_reviews_pending"] == 1

            if decision == "same_person":
                await send(decided(decision))
                await send(PersonIdentitiesMerged(
                    id="merge-b-a", source="ariane/intake", subject="A", time=at(47),
                    data=PersonIdentitiesMergedData(kept_person_id="A", merged_person_id="B", rule="manual")))

                async def merged():
                    return (await client.get("/v1/ledger")).json()["merged"] == 1

                await poll(merged)
                assert await alerts_for("B") == [] and await alerts_for("A") == []
                assert not [x for x in await worklist() if x[1] in ("identity_review", "lost", "at_risk")]
            else:
                await send(decided(decision))

                async def alerted():
                    return await alerts_for("B") == ["at_risk", "lost"]

                await poll(alerted)
                lines = await worklist()
                assert ("B", "lost", None) in lines and not [x for x in lines if x[1] == "identity_review"]
            assert (await client.get("/v1/ledger")).json()["identity_reviews_pending"] == 0
        finally:
            await producer.stop()
