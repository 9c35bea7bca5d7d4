"""An erased person in followup, on the real broker and store: their worklist lines and caseload rows no longer
carry any structure's file number, nothing finds them by it, and their state and every count stay.

The PLIE (PLIE-P, P in its parcours) and the Mission locale (ML-P) both registered P; a referral to the Mission
locale is due on day 15, so on day 13 its worklist names P by its file number, and the PLIE's caseload too. Q, registered the same way, is
the control: nothing of Q changes. Then intake publishes person.erased for P.

The registrations carry their file number as intake published them before it stopped publishing any: an older
log still replays, and followup still forgets what it holds (intake's README, "The file number on Kafka after
an erasure"; tests/integration/intake/test_erasure_with_followup.py is the same story with today's intake).
"""

from __future__ import annotations

from datetime import date

from conversation import followup, until
from builders import at, entered, issued, registered

from contracts.envelope import Envelope
from contracts.erasure import PersonErased, PersonErasedData

ML, PLIE, COORD = "mission_locale_angevine", "plie_angers", "coordination_territoriale"
KEYS = (ML, PLIE, COORD)


def with_file_number(event: Envelope, number: str) -> Envelope:
    return event.model_copy(update={"data": event.data.model_copy(update={"partner_ref": number})})


def erased(person_id: str, day: int) -> PersonErased:
    return PersonErased(id=f"era-{person_id}", source="ariane/intake", subject=person_id, time=at(day),
                        data=PersonErasedData(erasure_id=f"era-{person_id}", person_id=person_id,
                                              erased_on=date(2026, 1, 1), reason="person_request",
                                              requested_by=COORD))


async def test_an_erased_person_keeps_their_state_and_loses_their_file_numbers(kafka_bootstrap, topic_prefix,
                                                                               database_url, tmp_path):
    async with followup(kafka_bootstrap, topic_prefix, database_url, tmp_path, KEYS) as f:
        async def lines(structure: str, **params) -> list[tuple]:
            items = (await f.json("/v1/worklist", structure, **params))["items"]
            return sorted((i["person_id"], i["kind"], i["answer_id"], i["file_number"]) for i in items)

        async def caseload(structure: str) -> list[tuple]:
            items = (await f.json("/v1/caseload", structure))["items"]
            return sorted((i["person_id"], i["file_number"]) for i in items)

        for pid in ("P", "Q"):
            await f.send(with_file_number(registered(pid, 0, eid=f"{pid}-reg-plie", structure=PLIE), f"PLIE-{pid}"))
            await f.send(entered(pid, 0, "plie_parcours", PLIE))
            await f.send(with_file_number(registered(pid, 0, eid=f"{pid}-reg-ml", structure=ML), f"ML-{pid}"))
            await f.send(issued(pid, 0, f"ref-{pid}", due_in=15))
        for n in range(0, 14):
            await f.day(n)
        assert await lines(ML) == [("P", "referral_expiring", "ref-P", "ML-P"),
                                   ("Q", "referral_expiring", "ref-Q", "ML-Q")]
        assert await caseload(PLIE) == [("P", "PLIE-P"), ("Q", "PLIE-Q")]
        ledger = (await f.client.get("/v1/ledger")).json()
        state = (await f.json("/v1/people/P/timeline", COORD))["state"]

        await f.send(erased("P", 13))

        async def forgotten() -> bool:
            return ("P", "referral_expiring", "ref-P", None) in await lines(ML)

        await until(forgotten)
        assert await lines(ML) == [("P", "referral_expiring", "ref-P", None),
                                   ("Q", "referral_expiring", "ref-Q", "ML-Q")]
        assert await caseload(PLIE) == [("P", None), ("Q", "PLIE-Q")]
        assert await lines(ML, q="ML-P") == [] and [x[0] for x in await lines(ML, q="ML-Q")] == ["Q"]
        assert (await f.json("/v1/people/P/timeline", ML))["file_number"] is None
        assert (await f.json("/v1/people/Q/timeline", ML))["file_number"] == "ML-Q"
        timeline = await f.json("/v1/people/P/timeline", COORD)
        assert timeline["state"] == state and "ML-P" not in str(timeline) and "PLIE-P" not in str(timeline)
        assert (await f.client.get("/v1/ledger")).json() == ledger  # every count stays true

        # Days go on: P's story goes on without a file number.
        for n in range(14, 17):
            await f.day(n)
        assert all(x[3] is None for x in await lines(ML) if x[0] == "P")
        assert (await f.client.get("/v1/ledger")).json()["registered"] == ledger["registered"]
