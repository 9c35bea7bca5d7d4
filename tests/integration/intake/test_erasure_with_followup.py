"""Erasure mid-story across intake and followup, on the real broker and stores.

Cap emploi registers Lina (its file CAP-…) and prescribes the Mission locale, which registers her too (its
file ML-…). Two days before the answer is due, the Mission locale's worklist names her by its file number.
The coordinator erases her: the worklist line stays (she is still to be
answered: figures stay true) but carries no file number, nothing finds her by it, followup's counts are
unchanged, the erasure is on intake's topic without identity, and Lina registered again is a new person.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from datetime import date

from aiokafka import AIOKafkaProducer
from conftest import RunningIntake, intake_settings, registration
from identity_scenes import CAP, LINA, ML, Keys, assert_nothing_planted_on_the_topics, bearer, of_type, \
    prescription, wait_for_events

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

        first = await intake.post(registration(CAP, ref=cap_file, identity=LINA), cap)
        person = first.json()["results"][0]["person_id"]
        assert (await intake.post(prescription(CAP, person, ML), cap)).status_code == 202  # due 2025-02-18
        seen_by_ml = await intake.post(registration(ML, ref=ml_file, identity=LINA), ml)
        assert seen_by_ml.json()["results"][0]["person_id"] == person

        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap))
        await producer.start()
        stack.push_async_callback(producer.stop)
        await producer.send_and_wait(topic_prefix + topics.CLOCK, DayStarted.for_day(date(2025, 2, 16))
                                     .to_json_bytes(), key=b"clock")

        async def ml_lines() -> list[tuple]:
            answer = await http["followup"].get("/v1/worklist", headers=bearer(ml_counsellor))
            assert answer.status_code == 200, answer.text
            return [(i["person_id"], i["kind"], i["file_number"]) for i in answer.json()["items"]]

        async def named_by_number() -> bool:
            return (person, "referral_expiring", ml_file) in await ml_lines()

        await _until(named_by_number)
        ledger = (await http["followup"].get("/v1/ledger")).json()

        erased = await http["intake"].post("/v1/erasures", json={"person_id": person, "reason": "person_request"},
                                           headers=bearer(coordinator))
        assert erased.status_code == 200 and erased.json()["status"] == "erased", erased.text

        async def forgotten() -> bool:
            return await ml_lines() == [(person, "referral_expiring", None)]

        await _until(forgotten)  # the line stays (the referral is still to answer), without the file number
        search = await http["followup"].get("/v1/worklist", params={"q": ml_file}, headers=bearer(ml_counsellor))
        assert search.json()["items"] == []
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
