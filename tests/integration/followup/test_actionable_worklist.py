"""A counsellor's side of the worklist and the timeline, on the real broker and store.

The story: France Travail registers a young man (its file FT-778) and orients him to the Mission locale, which
registers him too (its file ML49-2026-0042). Three days before the answer is due, the Mission locale's worklist
names him by ML49-2026-0042 with the referral's id to answer; it accepts, and the line leaves. It places him in
a job; a month later its worklist shows the 1-month check-in with its id; it answers that id, and the line
leaves. France Travail never sees the Mission locale's file number, the SIAE (never involved) cannot read his
timeline, and the coordinator reads it whole.
"""

from __future__ import annotations

import json
from datetime import timedelta

from conversation import AUDITOR, followup, until
from builders import START, accepted, at, issued, job_started, registered

from contracts.envelope import Envelope
from contracts.followup import CheckinDone, CheckinDoneData

ML, FT, SIAE, COORD = "mission_locale_angevine", "france_travail_angers_centre", "siae_regie_quartiers", \
    "coordination_territoriale"
KEYS = (ML, FT, SIAE, COORD, AUDITOR)  # one key each in the credentials book


def with_file_number(event: Envelope, number: str) -> Envelope:
    return event.model_copy(update={"data": event.data.model_copy(update={"partner_ref": number})})


async def test_a_counsellor_acts_on_the_worklist(kafka_bootstrap, topic_prefix, database_url, tmp_path):
    async with followup(kafka_bootstrap, topic_prefix, database_url, tmp_path, KEYS) as f:
        async def lines(structure: str, **params) -> list[dict]:
            return (await f.json("/v1/worklist", structure, **params))["items"]

        async def no_line_for_ml() -> bool:
            return await lines(ML) == []

        await f.send(with_file_number(registered("P", 0), "FT-778"))
        await f.send(with_file_number(registered("P", 0, eid="P-reg-ml", structure=ML), "ML49-2026-0042"))
        await f.send(issued("P", 0, "ref-p", due_in=15))
        for n in range(0, 14):
            await f.day(n)
        # Day 13, the answer due on day 15: the Mission locale's line names him by its own file number.
        mine = await lines(ML)
        assert [(i["kind"], i["file_number"], i["answer_id"]) for i in mine] == \
            [("referral_expiring", "ML49-2026-0042", "ref-p")]
        assert (START + timedelta(days=15)).strftime("%d/%m/%Y") in mine[0]["expected"]
        assert mine[0]["timeline_url"] == "/v1/people/P/timeline"
        assert [i["person_id"] for i in await lines(ML, q="ML49-2026-0042")] == ["P"]
        assert await lines(FT, q="ML49-2026-0042") == []  # never another structure's number
        csv_rows = (await f.get("/v1/worklist", ML, format="csv")).text.splitlines()
        assert csv_rows[0].split(",")[:6] == ["person_id", "structure_id", "file_number", "kind", "answer_id",
                                              "reason"]
        assert csv_rows[1].startswith("P,mission_locale_angevine,ML49-2026-0042,referral_expiring,ref-p,")

        await f.send(accepted("P", 14, "ref-p"))
        await f.day(14)
        assert await until(no_line_for_ml)

        await f.send(job_started("P", 20, "job-p", structure=ML))
        due = START + timedelta(days=20)
        due = due.replace(month=due.month + 1)  # the 1-month check-in after the job start
        for n in range(14, (due - START).days + 1):
            await f.day(n)
        [line] = await lines(ML)
        assert (line["kind"], line["file_number"]) == ("checkin_due", "ML49-2026-0042")
        assert line["answer_id"].startswith("chk-") and line["answer_id"].endswith("-job-1m")
        assert await lines(ML, kind="lost") == []
        assert [i["answer_id"] for i in await lines(ML, q=line["answer_id"])] == [line["answer_id"]]

        await f.send(CheckinDone(id="P-chk-1", source=ML, subject="P", time=at((due - START).days, 700),
                                 data=CheckinDoneData(checkin_id=line["answer_id"], structure_id=ML, reached=True,
                                                      situation="in_employment")))
        assert await until(no_line_for_ml)

        # The timeline: the Mission locale reads it with its own number, France Travail with its own.
        mine = await f.json("/v1/people/P/timeline", ML)
        theirs = await f.json("/v1/people/P/timeline", FT)
        whole = await f.json("/v1/people/P/timeline", COORD)
        assert (mine["file_number"], theirs["file_number"], whole["file_number"]) == ("ML49-2026-0042", "FT-778", None)
        assert mine["state"] == "in_employment" and mine["holders"] == [ML]
        kinds = [(e["day"], e["kind"], e["structure_id"]) for e in whole["entries"]]
        expected = [(START.isoformat(), "registered", FT), (START.isoformat(), "registered", ML),
                    (START.isoformat(), "referral_issued", ML),
                    ((START + timedelta(days=14)).isoformat(), "referral_accepted", ML),
                    ((START + timedelta(days=20)).isoformat(), "job_started", ML),
                    (due.isoformat(), "checkin_done", ML)]
        assert [k for k in kinds if k[1] != "checkin_due"] == expected
        assert "FT-778" not in json.dumps(mine) and "ML49-2026-0042" not in json.dumps(theirs)
        issued_entry = next(e for e in whole["entries"] if e["kind"] == "referral_issued")
        assert issued_entry["rule"] and issued_entry["ref"] == "ref-p"
        assert (await f.get("/v1/people/P/timeline", SIAE)).status_code == 403
        assert (await f.get("/v1/people/nobody/timeline", COORD)).status_code == 404
        assert (await f.get("/v1/people/P/timeline", None)).status_code == 401
        # An auditor reads the pseudonymous timeline, with no file number, but no worklist.
        audited = await f.json("/v1/people/P/timeline", AUDITOR)
        assert audited["file_number"] is None and audited["worklist"] == [] and audited["entries"] == whole["entries"]
        assert (await f.get("/v1/worklist", AUDITOR)).status_code == 403
