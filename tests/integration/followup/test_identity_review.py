"""An identity review as the coordinator lives it, on the real broker and store.

Anne is registered twice: by France Travail as A, then by the Mission locale as B, without a NIR, so intake
cannot be sure and opens a review. B's referral expires unanswered and, on the facts of B alone, B is lost;
but B may be A, whom France Travail holds: until the coordinator decides, no alert goes out for B and the
coordinator's worklist shows the review instead. Deciding "different people" lets B's alerts through at
once; deciding "same person" (then the merge) closes the review with no alert for B at all.
"""

from __future__ import annotations

import pytest
from conversation import followup, until
from builders import at, entered, expired, issued, registered
from sqlalchemy import select

from contracts import topics
from contracts.identity import (IdentityReviewDecided, IdentityReviewDecidedData, IdentityReviewOpened,
                                IdentityReviewOpenedData)
from contracts.people import PersonIdentitiesMerged, PersonIdentitiesMergedData

COORD = "coordination_territoriale"
KEYS = (COORD,)


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
                                                                      database_url, tmp_path):
    async with followup(kafka_bootstrap, topic_prefix, database_url, tmp_path, KEYS) as f:
        async def alerts_for(person: str) -> list[str]:
            async with f.ctx.session_factory() as s:
                rows = (await s.execute(select(f.ctx.tables.outbox.c.event_type).where(
                    f.ctx.tables.outbox.c.key == person))).scalars().all()
            return sorted(t.rsplit(".", 1)[1] for t in rows if t.endswith(("at_risk", "lost")))

        async def worklist() -> list[tuple[str, str, str | None]]:
            body = await f.json("/v1/worklist", COORD)
            return [(i["person_id"], i["kind"], i["answer_id"]) for i in body["items"]]

        async def pending_reviews() -> int:
            return (await f.client.get("/v1/ledger")).json()["identity_reviews_pending"]

        await f.send(registered("A", 0))
        await f.send(entered("A", 0, "plie_parcours", "plie_angers"))
        await f.send(registered("B", 0, structure="mission_locale_angevine"))
        await f.send(issued("B", 0, "ref-b"), topics.REFERRAL)
        await f.send(opened())
        await f.send(expired("B", 15, "ref-b", due_day=15), topics.REFERRAL)
        for n in range(0, 47):
            await f.day(n)
        # Day 46: on B's own facts B would be lost (since day 15), but the review is pending.
        assert await alerts_for("B") == []
        lines = await worklist()
        assert ("B", "identity_review", "rev-b-a") in lines and not [x for x in lines if x[1] == "lost"]
        [review_line] = (await f.json("/v1/worklist", COORD, kind="identity_review"))["items"]
        assert "date de naissance" in review_line["expected"] and "A" in review_line["expected"]
        assert await pending_reviews() == 1

        await f.send(decided(decision))
        if decision == "same_person":
            await f.send(PersonIdentitiesMerged(
                id="merge-b-a", source="ariane/intake", subject="A", time=at(47),
                data=PersonIdentitiesMergedData(kept_person_id="A", merged_person_id="B", rule="manual")))

            async def merged():
                return (await f.client.get("/v1/ledger")).json()["merged"] == 1

            await until(merged)
            assert await alerts_for("B") == [] and await alerts_for("A") == []
            assert not [x for x in await worklist() if x[1] in ("identity_review", "lost", "at_risk")]
        else:
            async def alerted():
                return await alerts_for("B") == ["at_risk", "lost"]

            await until(alerted)
            lines = await worklist()
            assert ("B", "lost", None) in lines and not [x for x in lines if x[1] == "identity_review"]
        assert await pending_reviews() == 0
