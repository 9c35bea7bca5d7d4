"""Erasure mid-story across intake and followup, on the real broker and stores.

Cap emploi registers Lina (its file CAP-…) and Yanis and prescribes both to the Mission locale, which registers
them too (its files ML-… and MLY-…). Two days before the answers are due, the Mission locale's worklist, as its
page shows it (followup's lines, the structure's own numbers read from intake with the counsellor's key), names
both by its file numbers. The coordinator erases Lina: her line stays (she is still to be answered: figures
stay true) but carries no file number, nothing finds her by it, Yanis is still named by his, followup's counts
are unchanged, the erasure is on intake's topic without identity, no topic holds any of the file numbers, and
Lina registered again is a new person.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from datetime import date

from aiokafka import AIOKafkaProducer
from identity_scenes import CAP, LINA, ML, YANIS_ML, Keys, assert_nothing_planted_on_the_topics, \
    assert_on_no_topic, bearer, of_type, prescription, wait_for_events
from intake_harness import RunningIntake, intake_settings, registration

from contracts import topics
from contracts.clock import DayStarted
from services.followup.app import definition as followup_definition
from services.intake.app import definition as intake_definition
from services.runtime.credentials import CredentialsBook
from tests.support.kafka import admin_security
from tests.support.services import running_service, test_settings


async def _until(check, deadline_s: float = 30.0):  # noqa: ANN001, ANN202
    end = asyncio.get_running_loop().time() + deadline_s
    while not (value := await check()):
        assert asyncio.get_running_loop().time() < end, "deadline passed"
        await asyncio.sleep(0.1)
    return value


async def test_an_erasure_mid_story_leaves_no_file_number_and_the_figures_true(kafka_bootstrap, topic_prefix,
                                                                               database_url_factory, tmp_path):
    book = CredentialsBook(tmp_path / "credentials.json")
    async with AsyncExitStack() as stack:
        apps, http = {}, {}
        for name, defn in (("intake", intake_definition(intake_settings())), ("followup", followup_definition())):
            settings = test_settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix,
                                     database_url=await database_url_factory(name), credentials_file=book.path)
            apps[name], http[name] = await stack.enter_async_context(running_service(defn, settings))
        intake = RunningIntake(apps["intake"].state.ctx, http["intake"], topic_prefix, kafka_bootstrap, book)
        keys = Keys(intake)
        cap, ml = await keys.partner(CAP), await keys.partner(ML)
        ml_counsellor, coordinator = keys.counsellor(ML), keys.coordinator()
        cap_file, ml_file = f"CAP-{uuid.uuid4().hex[:6]}", f"ML-{uuid.uuid4().hex[:6]}"

        yanis_cap_file, yanis_file = f"CAPY-{uuid.uuid4().hex[:6]}", f"MLY-{uuid.uuid4().hex[:6]}"

        first = await intake.post(registration(CAP, ref=cap_file, identity=LINA), cap)
        person = first.json()["results"][0]["person_id"]
        assert (await intake.post(prescription(CAP, person, ML), cap)).status_code == 202  # due 2025-02-18
        seen_by_ml = await intake.post(registration(ML, ref=ml_file, identity=LINA), ml)
        assert seen_by_ml.json()["results"][0]["person_id"] == person
        other = (await intake.post(registration(CAP, ref=yanis_cap_file, identity=YANIS_ML), cap)
                 ).json()["results"][0]["person_id"]
        assert (await intake.post(prescription(CAP, other, ML), cap)).status_code == 202
        assert (await intake.post(registration(ML, ref=yanis_file, identity=YANIS_ML), ml)).status_code == 202

        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap))
        await producer.start()
        stack.push_async_callback(producer.stop)
        await producer.send_and_wait(topic_prefix + topics.CLOCK, DayStarted.for_day(date(2025, 2, 16))
                                     .to_json_bytes(), key=b"clock")

        async def ml_lines() -> list[tuple]:
            """The Mission locale's worklist as its page shows it: followup's lines, intake's numbers."""
            answer = await http["followup"].get("/v1/worklist", headers=bearer(ml_counsellor))
            assert answer.status_code == 200, answer.text
            items = answer.json()["items"]
            assert all(i["file_number"] is None for i in items)  # followup learns no number from the log
            numbers = await http["intake"].post("/v1/file-numbers", headers=bearer(ml_counsellor),
                                                json={"person_ids": [i["person_id"] for i in items]})
            assert numbers.status_code == 200, numbers.text
            own = {n["person_id"]: n["file_number"] for n in numbers.json()["items"]
                   if n["structure_id"] == ML}
            return sorted((i["person_id"], i["kind"], own.get(i["person_id"])) for i in items)

        async def named_by_number() -> bool:
            return await ml_lines() == sorted([(person, "referral_expiring", ml_file),
                                               (other, "referral_expiring", yanis_file)])

        await _until(named_by_number)
        ledger = (await http["followup"].get("/v1/ledger")).json()

        erased = await http["intake"].post("/v1/erasures", json={"person_id": person, "reason": "person_request"},
                                           headers=bearer(coordinator))
        assert erased.status_code == 200 and erased.json()["status"] == "erased", erased.text

        async def forgotten() -> bool:
            return await ml_lines() == sorted([(person, "referral_expiring", None),
                                               (other, "referral_expiring", yanis_file)])

        await _until(forgotten)  # the line stays (the referral is still to answer), without the file number
        search = await http["followup"].get("/v1/worklist", params={"q": ml_file}, headers=bearer(ml_counsellor))
        assert search.json()["items"] == []
        by_intake = await http["intake"].post("/v1/file-numbers", json={"file_numbers": [ml_file, yanis_file]},
                                              headers=bearer(ml_counsellor))
        assert [(n["person_id"], n["file_number"]) for n in by_intake.json()["items"]] == [(other, yanis_file)]
        assert (await http["followup"].get("/v1/ledger")).json() == ledger
        by_number = await http["intake"].post("/v1/erasures", json={"file_number": ml_file,
                                                                    "reason": "person_request"},
                                              headers=bearer(ml_counsellor))
        assert by_number.status_code == 404

        again = await intake.post(registration(CAP, ref=f"CAP-{uuid.uuid4().hex[:6]}", identity=LINA), cap)
        assert again.status_code == 202 and again.json()["results"][0]["person_id"] != person

        events = await wait_for_events(intake, lambda evs: len(of_type(evs, "person.erased")) == 1)
        [announced] = of_type(events, "person.erased")
        assert announced["subject"] == person
        assert cap_file not in json.dumps(announced) and ml_file not in json.dumps(announced)
        await assert_nothing_planted_on_the_topics(intake)
        await assert_on_no_topic(intake, cap_file, ml_file, yanis_cap_file, yanis_file)
