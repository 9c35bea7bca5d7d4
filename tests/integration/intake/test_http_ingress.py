"""POST /v1/events against the real broker: per-event answers, and only the good events on the topic."""

from __future__ import annotations

import json

from intake_harness import contact, intake_topic, read_topic, registration

IDENTITY = {"nir": "1 04 07 49 007 123 45", "last_name": "Benali", "first_names": "Yanis",
            "birth_date": "2004-07-19", "phone": "06 12 34 56 78"}


async def test_batch_answers_per_event_and_publishes_only_the_good_ones(intake):
    token = await intake.key_for("mission_locale_angevine")
    good = registration(identity=IDENTITY)
    # First the registration alone: accepted, with a person_id to use later.
    first = await intake.post(good, token)
    assert first.status_code == 202, first.text
    person_id = first.json()["results"][0]["person_id"]
    assert person_id.startswith("p_")

    bad = contact("mission_locale_angevine", person_id)
    bad["data"]["channel"] = "carrier pigeon"
    unknown = contact("mission_locale_angevine", "NO-SUCH-REF")
    later = contact("mission_locale_angevine", person_id)
    by_ref = contact("mission_locale_angevine", f"mission_locale_angevine:{good['data']['partner_ref']}")
    batch = [later, good, bad, unknown, by_ref, later]
    answer = await intake.post(batch, token)
    assert answer.status_code == 202, answer.text
    statuses = [r["status"] for r in answer.json()["results"]]
    assert statuses == ["accepted", "duplicate", "rejected", "rejected", "accepted", "duplicate"]
    results = answer.json()["results"]
    assert results[2]["reason"] == "invalid_event" and results[2]["errors"][0]["loc"] == "data.channel"
    assert results[3]["reason"] == "unknown_person"
    assert results[4]["person_id"] == person_id

    published = await read_topic(intake.bootstrap, intake_topic(intake.prefix))
    ids = sorted(json.loads(v)["id"] for _, v in published)
    assert ids == sorted([good["id"], later["id"], by_ref["id"]])
    assert {k.decode() for k, _ in published} == {person_id}
    assert all("identity" not in json.loads(v)["data"] for _, v in published)
    assert all(json.loads(v).get("recordedtime") for _, v in published)
