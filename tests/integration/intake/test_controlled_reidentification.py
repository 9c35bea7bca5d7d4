"""Controlled re-identification on the real broker and database: who may see a person's identity, and every
time it is shown, an identity.disclosed event (never carrying the identity) and an entry an auditor lists."""

from __future__ import annotations

import asyncio
import json
import uuid

from aiokafka import AIOKafkaProducer
from identity_scenes import CAP, COORDINATOR, FT, LINA, ML, Keys, assert_nothing_planted_on_the_topics, bearer, \
    intake_events, of_type, prescription, register, reveal, wait_for_events

from contracts import topics
from tests.support.kafka import admin_security


async def test_who_may_see_an_identity_and_every_disclosure_is_announced_and_listed(intake):
    keys = Keys(intake)
    cap = await keys.partner(CAP)
    person = await register(intake, cap, CAP, LINA)
    # Cap emploi prescribes the Mission locale: from now on the Mission locale is asked to act on her.
    assert (await intake.post(prescription(CAP, person, ML), cap)).status_code == 202
    ml_counsellor, ft = keys.counsellor(ML), await keys.partner(FT)
    coordinator, auditor = keys.coordinator(), keys.auditor()

    seen = await reveal(intake, ml_counsellor, person, "premier rendez-vous à fixer")
    assert seen.status_code == 200, seen.text
    assert seen.json()["identity"]["last_name"] == LINA["last_name"]
    assert seen.json()["basis"] == "asked_to_act"
    registered = await reveal(intake, cap, person, "mise à jour du dossier")
    assert registered.status_code == 200 and registered.json()["basis"] == "registered"

    # France Travail never had to do with her: refused, and nothing is disclosed nor announced.
    refused = await reveal(intake, ft, person, "curiosité")
    assert refused.status_code == 403
    assert "neither registered" in refused.json()["detail"]
    assert (await reveal(intake, ft, "p_" + "0" * 32, "curiosité")).status_code == 403  # unknown: the same answer
    assert (await reveal(intake, auditor, person, "contrôle")).status_code == 403
    assert (await reveal(intake, "ak_nobody.nothing", person)).status_code == 401

    # The coordinator may reveal anyone, with a reason; without one, or with one naming her, it is refused.
    assert (await reveal(intake, coordinator, person, None)).status_code == 422
    assert (await reveal(intake, coordinator, person, "  ")).status_code == 422
    assert (await reveal(intake, coordinator, person, "x" * 501)).status_code == 422
    naming = await reveal(intake, coordinator, person, f"appeler {LINA['last_name']}")
    assert naming.status_code == 422 and "name" in json.dumps(naming.json())
    with_nir = await reveal(intake, coordinator, person, f"vérifier le NIR {LINA['nir']}")
    assert with_nir.status_code == 422
    revealed = await reveal(intake, coordinator, person, "personne perdue de vue, relance")
    assert revealed.status_code == 200 and revealed.json()["basis"] == "coordinator_reveal"
    assert (await reveal(intake, coordinator, "p_" + "0" * 32, "personne inconnue")).status_code == 404

    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "identity.disclosed")) >= 3)
    disclosed = of_type(events, "identity.disclosed")
    assert sorted((e["data"]["disclosed_to"], e["data"]["basis"]) for e in disclosed) == sorted(
        [(ML, "asked_to_act"), (CAP, "registered"), (COORDINATOR, "coordinator_reveal")])
    assert all(e["subject"] == person == e["data"]["person_id"] for e in disclosed)
    assert {e["data"]["disclosure_id"] for e in disclosed} == {
        a.json()["disclosure_id"] for a in (seen, registered, revealed)}
    assert "identity" not in json.dumps([e["data"] for e in disclosed])

    # The auditor lists exactly those; the coordinator may too; a structure's keys may not.
    listed = await intake.client.get("/v1/disclosures", headers=bearer(auditor))
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [(i["disclosure_id"], i["disclosed_to"], i["basis"], i["reason"]) for i in items] == [
        (e["data"]["disclosure_id"], e["data"]["disclosed_to"], e["data"]["basis"], e["data"]["reason"])
        for e in sorted(disclosed, key=lambda e: (e["data"]["disclosed_at"], e["data"]["disclosure_id"]))]
    assert {i["key_id"] for i in items} == {e["data"]["key_id"] for e in disclosed}
    by_person = await intake.client.get("/v1/disclosures", params={"person_id": person, "structure": ML},
                                        headers=bearer(coordinator))
    assert [i["basis"] for i in by_person.json()["items"]] == ["asked_to_act"]
    assert (await intake.client.get("/v1/disclosures", headers=bearer(ml_counsellor))).status_code == 403
    assert (await intake.client.get("/v1/disclosures", headers=bearer(cap))).status_code == 403
    assert (await intake.client.get("/v1/disclosures")).status_code == 401

    await assert_nothing_planted_on_the_topics(intake)


async def test_structures_named_to_act_by_referral_and_followup_may_see_the_identity(intake):
    keys = Keys(intake)
    cap = await keys.partner(CAP)
    person = await register(intake, cap, CAP, LINA)
    plie, ft = keys.counsellor("plie_angers"), keys.counsellor("france_travail_angers_centre")
    siae = keys.counsellor("siae_regie_quartiers")
    for token in (plie, ft, siae):
        assert (await reveal(intake, token, person)).status_code == 403

    # What the referral and followup services publish, as they publish it: intake reads both topics.
    referral = {"specversion": "1.0", "id": f"ref-{uuid.uuid4()}", "source": "ariane/referral",
                "type": "fr.ariane.referral.issued", "subject": person, "time": "2025-02-05T09:00:00+01:00",
                "data": {"referral_id": "ref-x1", "kind": "orientation", "from_structure": CAP,
                         "to_structure": "plie_angers", "reason": "orientation PLIE", "rule": "plie.long_term",
                         "due_date": "2025-02-19"}}
    lost = {"specversion": "1.0", "id": f"lost-{uuid.uuid4()}", "source": "ariane/followup",
            "type": "fr.ariane.person.lost", "subject": person, "time": "2025-05-30T00:00:00+02:00",
            "data": {"reason": "job_ended_unheld", "since": "2025-03-31",
                     "structure_to_act": "france_travail_angers_centre", "detected_on": "2025-05-30"}}
    producer = AIOKafkaProducer(bootstrap_servers=intake.bootstrap, **admin_security(intake.bootstrap),
                                enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(intake.prefix + topics.REFERRAL, json.dumps(referral).encode(),
                                     key=person.encode())
        await producer.send_and_wait(intake.prefix + topics.FOLLOWUP, json.dumps(lost).encode(), key=person.encode())
    finally:
        await producer.stop()

    deadline = asyncio.get_running_loop().time() + 30
    while (await reveal(intake, ft, person, "retrouver la personne")).status_code != 200:
        assert asyncio.get_running_loop().time() < deadline, "the followup alert never entitled France Travail"
        await asyncio.sleep(0.2)
    answer = await reveal(intake, plie, person, "premier entretien PLIE")
    assert answer.status_code == 200 and answer.json()["basis"] == "asked_to_act"
    assert (await reveal(intake, siae, person)).status_code == 403  # named by nobody

    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "identity.disclosed")) >= 2)
    assert sorted(e["data"]["disclosed_to"] for e in of_type(events, "identity.disclosed")) == [
        "france_travail_angers_centre", "plie_angers"]
    assert not of_type(await intake_events(intake), "referral.issued")  # read, never re-published
    await assert_nothing_planted_on_the_topics(intake)
