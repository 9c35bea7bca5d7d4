"""Erasure on the real broker and database, as the coordinator, the structures and an auditor live it.

Cap emploi registers Lina with her identity and its file number; the Mission locale is asked to act on her.
Her access request (the export) shows everything intake holds on her. Then she asks to be erased: an auditor
cannot do it, nor France Travail who never had to do with her; the coordinator does, by Cap emploi's file
number. From then on nobody sees her identity, the file number finds
nobody, no more event about her is taken, the auditor lists the erasure, person.erased is on intake's topic
without any identity or file number, no topic holds her file number, and Lina registered again is a new person.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

from aiokafka import AIOKafkaProducer

from identity_scenes import CAP, COORDINATOR, FT, LINA, ML, YANIS_FT, YANIS_ML, Keys, \
    assert_nothing_planted_on_the_topics, assert_on_no_topic, bearer, of_type, prescription, register, reveal, \
    wait_for_events
from intake_harness import contact, registration
from sqlalchemy import select

from contracts import topics
from contracts.clock import DayStarted
from tests.support.kafka import admin_security

NOAH = {"nir": "1 99 02 49 007 221 17", "last_name": "Quéméner", "first_names": "Noah", "birth_date": "1999-02-11"}


async def erase(intake, token: str, **body) -> object:  # noqa: ANN001
    return await intake.client.post("/v1/erasures", json={"reason": "person_request", **body}, headers=bearer(token))


async def export(intake, token: str, person_id: str, reason: str = "demande d'accès de la personne") -> object:  # noqa: ANN001
    return await intake.client.get(f"/v1/people/{person_id}/export", params={"reason": reason},
                                   headers=bearer(token))


async def test_the_coordinator_erases_a_person_by_a_file_number_and_nothing_leads_back_to_them(intake):
    keys = Keys(intake)
    cap = await keys.partner(CAP)
    file_number = f"CAP-{uuid.uuid4().hex[:6]}"
    person = await register(intake, cap, CAP, LINA, ref=file_number)
    assert (await intake.post(prescription(CAP, person, ML), cap)).status_code == 202
    assert (await intake.post(contact(CAP, file_number), cap)).status_code == 202  # the file number finds her
    coordinator, auditor, ft = keys.coordinator(), keys.auditor(), await keys.partner(FT)

    refused = await erase(intake, auditor, person_id=person)
    assert refused.status_code == 403 and "auditor" in refused.json()["detail"]
    assert (await erase(intake, ft, person_id=person)).status_code == 403  # never had to do with her
    assert (await erase(intake, keys.counsellor(FT), person_id=person)).status_code == 403
    assert (await erase(intake, cap, structure_id=FT, file_number=file_number)).status_code == 403  # not its own
    assert (await erase(intake, coordinator, person_id=person, file_number=file_number)).status_code == 422
    assert (await erase(intake, coordinator, person_id=person, reason="because")).status_code == 422
    assert (await erase(intake, "ak_nobody.nothing", person_id=person)).status_code == 401
    assert (await reveal(intake, cap, person)).status_code == 200  # nothing refused was erased

    # Her access request, before: everything intake holds on her, and the export is itself a disclosure.
    held = await export(intake, cap, person)
    assert held.status_code == 200, held.text
    held = held.json()
    assert (held["identity"]["last_name"], held["identity"]["birth_date"]) == (LINA["last_name"], LINA["birth_date"])
    assert held["file_numbers"] == [{"structure_id": CAP, "file_number": file_number}]
    assert len(held["accepted_events"]) == 3 and {e["source"] for e in held["accepted_events"]} == {CAP}
    assert {"fr.ariane.person.registered", "fr.ariane.referral.issued", "fr.ariane.contact.recorded"} <= {
        e["type"] for e in held["published_events"]}
    assert {(e["structure_id"], e["basis"]) for e in held["entitled"]} == {(CAP, "registered"), (ML, "asked_to_act")}
    assert [d["basis"] for d in held["disclosures"]] == ["registered", "registered"]  # the reveal, this export
    assert held["disclosures"][-1]["disclosure_id"] == held["disclosure_id"]
    for token in (auditor, ft):
        assert (await export(intake, token, person)).status_code == 403
    assert (await export(intake, coordinator, person, reason=f"appeler {LINA['last_name']}")).status_code == 422

    erased = await erase(intake, coordinator, structure_id=CAP, file_number=file_number)
    assert erased.status_code == 200, erased.text
    answer = erased.json()
    assert (answer["status"], answer["person_id"], answer["reason"], answer["requested_by"]) == (
        "erased", person, "person_request", COORDINATOR)

    # Erasing again says it is done already; the file number no longer finds her.
    again = await erase(intake, coordinator, person_id=person)
    assert again.status_code == 200 and again.json()["status"] == "already_erased"
    assert again.json()["erasure_id"] == answer["erasure_id"]
    assert (await erase(intake, cap, person_id=person)).json()["status"] == "already_erased"
    by_number = await erase(intake, coordinator, structure_id=CAP, file_number=file_number)
    assert by_number.status_code == 404 and "erased" in by_number.json()["detail"]

    # Nobody sees her identity any more, not even those who could.
    for token in (coordinator, cap, keys.counsellor(ML)):
        gone = await reveal(intake, token, person, "rappeler la personne")
        assert gone.status_code == 404 and "erased" in gone.json()["detail"]
    assert (await export(intake, cap, person)).status_code == 410
    assert (await export(intake, coordinator, person)).status_code == 410
    # Intake's own copies of what it published about her (a registration holds the file number) are gone.
    async with intake.ctx.session_factory() as session:
        kept = (await session.execute(select(intake.ctx.tables.outbox.c.payload))).scalars().all()
    assert not [p for p in kept if file_number.encode() in p]
    # No event about her is taken: by the file number she is unknown, by her id she is erased.
    by_ref = await intake.post(contact(CAP, file_number), cap)
    assert by_ref.status_code == 422 and by_ref.json()["results"][0]["reason"] == "unknown_person"
    by_id = await intake.post(contact(CAP, person), cap)
    assert by_id.status_code == 422 and by_id.json()["results"][0]["reason"] == "person_erased"

    # The auditor lists the erasure; a structure's key may not.
    listed = await intake.client.get("/v1/erasures", headers=bearer(auditor))
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["items"]
    assert (entry["erasure_id"], entry["person_id"], entry["requested_by"], entry["role"], entry["reason"]) == (
        answer["erasure_id"], person, COORDINATOR, "coordinator", "person_request")
    assert (await intake.client.get("/v1/erasures", params={"person_id": person},
                                    headers=bearer(coordinator))).json()["items"] == [entry]
    assert (await intake.client.get("/v1/erasures", headers=bearer(cap))).status_code == 403

    # Registered again with the same identity, she is a new person: nothing ties her to the erased one.
    again_registered = await register(intake, cap, CAP, LINA, ref=f"CAP-{uuid.uuid4().hex[:6]}")
    assert again_registered != person
    assert (await reveal(intake, cap, again_registered)).json()["identity"]["last_name"] == LINA["last_name"]
    assert (await reveal(intake, cap, person)).status_code == 404

    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "person.erased")) == 1)
    [announced] = of_type(events, "person.erased")
    assert announced["subject"] == person and announced["data"]["erasure_id"] == answer["erasure_id"]
    assert announced["data"]["reason"] == "person_request"
    assert file_number not in json.dumps(announced)
    await assert_nothing_planted_on_the_topics(intake)
    await assert_on_no_topic(intake, file_number)  # nor her file number, on any topic


async def test_a_structure_erases_the_people_it_registered_by_its_own_file_number(intake):
    keys = Keys(intake)
    ml = await keys.partner(ML)
    file_number = f"ML-{uuid.uuid4().hex[:6]}"
    registered = registration(ML, ref=file_number, identity=NOAH)
    person = (await intake.post(registered, ml)).json()["results"][0]["person_id"]
    counsellor = keys.counsellor(ML)
    done = await erase(intake, counsellor, file_number=file_number)
    assert done.status_code == 200, done.text
    assert (done.json()["person_id"], done.json()["requested_by"]) == (person, ML)
    assert (await erase(intake, counsellor, file_number=file_number)).status_code == 404
    assert (await reveal(intake, ml, person)).status_code == 404
    # Sent again (a replay), the registration is a duplicate of what was accepted: nothing comes back.
    replayed = await intake.post(registered, ml)
    assert replayed.json()["results"][0]["status"] == "duplicate"
    assert (await reveal(intake, ml, person)).status_code == 404
    assert (await erase(intake, keys.coordinator(), person_id=person)).json()["status"] == "already_erased"


def closure(source: str, subject: str, time: str) -> dict:
    return {"specversion": "1.0", "id": f"evt-{uuid.uuid4()}", "source": source, "type": "fr.ariane.case.closed",
            "subject": subject, "time": time, "data": {"reason": "moved_away"}}


async def test_the_clock_erases_who_was_closed_longer_than_the_retention_period(intake):
    """The territory keeps people two years (730 days) after their case is closed. Lina's case is closed on
    2025-03-03; Noah's too, but he comes back a month later. On 2027-03-02 nobody is erased; on 2027-03-03 Lina
    is, at the clock's request; Noah, followed again, is not."""
    keys = Keys(intake)
    cap = await keys.partner(CAP)
    lina, noah = await register(intake, cap, CAP, LINA), await register(intake, cap, CAP, NOAH)
    for person in (lina, noah):
        answer = await intake.post(closure(CAP, person, "2025-03-03T10:00:00+01:00"), cap)
        assert answer.status_code == 202, answer.text
    assert (await intake.post(contact(CAP, noah) | {"time": "2025-04-02T10:00:00+02:00"}, cap)).status_code == 202

    auditor = keys.auditor()

    async def taken(tick: DayStarted) -> bool:
        inbox = intake.ctx.tables.inbox
        async with intake.ctx.session_factory() as session:
            return bool((await session.execute(select(inbox.c.event_id).where(
                inbox.c.event_id == tick.id))).first())

    producer = AIOKafkaProducer(bootstrap_servers=intake.bootstrap, **admin_security(intake.bootstrap))
    await producer.start()
    try:
        for day in (date(2027, 3, 2), date(2027, 3, 3)):
            tick = DayStarted.for_day(day)
            await producer.send_and_wait(intake.prefix + topics.CLOCK, tick.to_json_bytes(), key=b"clock")
            deadline = asyncio.get_running_loop().time() + 30
            while not await taken(tick):
                assert asyncio.get_running_loop().time() < deadline, "intake never took the day"
                await asyncio.sleep(0.1)
            if day == date(2027, 3, 2):  # 729 days after the closure: still kept
                listed = await intake.client.get("/v1/erasures", headers=bearer(auditor))
                assert listed.json()["items"] == []
    finally:
        await producer.stop()

    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "person.erased")) >= 1)
    [erased] = of_type(events, "person.erased")
    assert (erased["subject"], erased["data"]["reason"], erased["data"]["requested_by"]) == (
        lina, "retention_period_over", "ariane_clock")
    assert (await reveal(intake, cap, lina)).status_code == 404
    assert (await reveal(intake, cap, noah)).status_code == 200
    listed = await intake.client.get("/v1/erasures", headers=bearer(auditor))
    assert [(e["person_id"], e["reason"], e["role"]) for e in listed.json()["items"]] == [
        (lina, "retention_period_over", "ariane_clock")]


async def test_erasing_one_of_a_pending_review_decides_it_and_the_other_is_nobodys_double(intake):
    """Yanis is registered by the Mission locale, then by France Travail with close names and no NIR: a review
    is pending. The Mission locale's Yanis asks to be erased: the review is decided different_people (an
    erased person is nobody's double), so France Travail's Yanis no longer waits for a decision."""
    keys = Keys(intake)
    ml, ft, coordinator = await keys.partner(ML), await keys.partner(FT), keys.coordinator()
    older = await register(intake, ml, ML, YANIS_ML)
    newer = await register(intake, ft, FT, YANIS_FT)
    [opened] = of_type(await wait_for_events(intake, lambda evs: len(of_type(evs, "identity.review_opened")) == 1),
                       "identity.review_opened")

    assert (await erase(intake, ml, person_id=older)).json()["status"] == "erased"
    pending = await intake.client.get("/v1/identity-reviews", headers=bearer(coordinator))
    assert pending.json()["items"] == []
    decided = await intake.client.get("/v1/identity-reviews", params={"status": "different_people"},
                                      headers=bearer(coordinator))
    [review] = decided.json()["items"]
    assert (review["review_id"], review["decided_by"]) == (opened["data"]["review_id"], ML)
    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "identity.review_decided")) == 1)
    [announced] = of_type(events, "identity.review_decided")
    assert announced["data"]["decision"] == "different_people" and announced["subject"] == newer
    assert (await reveal(intake, ft, newer)).status_code == 200  # the other one is untouched

    # Two erasures of the same person at once: one erases, the other answers it is done.
    both = await asyncio.gather(erase(intake, coordinator, person_id=newer), erase(intake, ft, person_id=newer))
    assert sorted((a.status_code, a.json()["status"]) for a in both) == [(200, "already_erased"), (200, "erased")]
    await assert_nothing_planted_on_the_topics(intake)
