"""A caseload handed over, as the Mission locale and the PLIE live it, on the real broker and store.

Counsellor ml-c-42 of the Mission locale takes on Paul and Zoé (their referrals accepted in her name);
counsellor ml-c-7 takes on Hugo. She leaves: from day 20 her caseload goes to ml-c-107. Then the Mission
locale hands Hugo, who is about to need a check-in, to the PLIE from day 40. The caseloads, the worklists and
the timelines follow each move, and nobody else's people move.
"""

from __future__ import annotations

from datetime import timedelta

from conversation import followup, until
from builders import START, accepted, at, issued, job_started, registered

from contracts.caseload import CaseloadTransferred, CaseloadTransferredData

ML, PLIE, COORD = "mission_locale_angevine", "plie_angers", "coordination_territoriale"
KEYS = (ML, PLIE, COORD)  # one key each in the credentials book


def transfer(person: str, day: int, src_c: str | None, dst: str, dst_c: str | None, tid: str) -> CaseloadTransferred:
    return CaseloadTransferred(
        id=f"{tid}-{person}", source=ML, subject=person, time=at(day - 1),
        data=CaseloadTransferredData(transfer_id=tid, from_structure=ML, from_counsellor=src_c, to_structure=dst,
                                     to_counsellor=dst_c, effective_on=START + timedelta(days=day),
                                     reason="counsellor_left" if dst == ML else "specialised_support"))


async def test_a_counsellors_caseload_then_one_person_change_hands(kafka_bootstrap, topic_prefix, database_url,
                                                                    tmp_path):
    async with followup(kafka_bootstrap, topic_prefix, database_url, tmp_path, KEYS) as f:
        async def caseload(structure: str, counsellor: str | None = None) -> list[str]:
            params = {"counsellor": counsellor} if counsellor else {}
            return sorted(i["person_id"] for i in (await f.json("/v1/caseload", structure, **params))["items"])

        for person, counsellor in (("paul", "ml-c-42"), ("zoe", "ml-c-42"), ("hugo", "ml-c-7")):
            accept = accepted(person, 2, f"ref-{person}")
            await f.send(registered(person, 0))
            await f.send(issued(person, 0, f"ref-{person}"))
            await f.send(accept.model_copy(update={"data": accept.data.model_copy(
                update={"counsellor_ref": counsellor})}))
        await f.send(job_started("hugo", 10, "job-h", structure=ML))
        for n in range(0, 3):
            await f.day(n)

        async def held() -> bool:
            return await caseload(ML, "ml-c-42") == ["paul", "zoe"]

        await until(held)
        assert await caseload(ML, "ml-c-7") == ["hugo"]
        assert (await f.get("/v1/caseload", PLIE, structure=ML)).status_code == 403

        # She leaves: the Mission locale hands her people, as its caseload view lists them, to ml-c-107.
        for person in await caseload(ML, "ml-c-42"):
            await f.send(transfer(person, 20, "ml-c-42", ML, "ml-c-107", "tr-c42"))
        for n in range(3, 21):
            await f.day(n)

        async def moved() -> bool:
            return await caseload(ML, "ml-c-107") == ["paul", "zoe"]

        await until(moved)
        assert await caseload(ML, "ml-c-42") == [] and await caseload(ML, "ml-c-7") == ["hugo"]

        # Hugo goes to the PLIE from day 40; his 1-month check-in after the job (day 10 + 1 month) follows.
        await f.send(transfer("hugo", 40, None, PLIE, None, "tr-hugo"))
        due = (START + timedelta(days=10)).replace(month=START.month + 1)
        for n in range(20, (due - START).days + 1):
            await f.day(n)
        assert await caseload(PLIE) == ["hugo"] and await caseload(ML, "ml-c-7") == []
        plie_lines = (await f.json("/v1/worklist", PLIE))["items"]
        assert [(i["person_id"], i["kind"]) for i in plie_lines] == [("hugo", "checkin_due")]
        assert (await f.json("/v1/worklist", ML))["items"] == []
        story = await f.json("/v1/people/hugo/timeline", PLIE)
        transfers = [e for e in story["entries"] if e["kind"] == "caseload_transferred"]
        assert [(e["day"], e["structure_id"], e["ref"]) for e in transfers] == [
            ((START + timedelta(days=40)).isoformat(), PLIE, "tr-hugo")]
        assert story["holders"] == [PLIE]
