"""Identity reviews on the real broker and database: two near-duplicate registrations open one review (one
review_opened, however often the registration comes); the coordinator sees both identities (each one a
disclosure) and decides once; "same_person" merges with rule manual and later events follow the kept id."""

from __future__ import annotations

from identity_scenes import CAP, COORDINATOR, FT, ML, NOAH_CAP, NOAH_ML, YANIS_FT, YANIS_ML, Keys, \
    assert_nothing_planted_on_the_topics, bearer, intake_events, of_type, register, wait_for_events
from intake_harness import contact, registration


async def _pending(intake, token: str) -> list[dict]:  # noqa: ANN001
    answer = await intake.client.get("/v1/identity-reviews", params={"status": "pending"}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_a_near_duplicate_opens_one_review_and_the_coordinator_decides_it_once(intake):
    keys = Keys(intake)
    ml, ft, coordinator = await keys.partner(ML), await keys.partner(FT), keys.coordinator()
    older = await register(intake, ml, ML, YANIS_ML)
    second = registration(FT, identity=YANIS_FT)
    first_answer = await intake.post(second, ft)
    assert first_answer.status_code == 202, first_answer.text
    newer = first_answer.json()["results"][0]["person_id"]
    assert newer != older  # close names, same birth date, no NIR: never merged automatically
    again = await intake.post(second, ft)  # the same registration sent twice
    assert again.json()["results"][0]["status"] == "duplicate"
    resent = await intake.post(registration(FT, identity=YANIS_FT), ft)  # and once more under a new id
    assert resent.json()["results"][0]["person_id"] == newer

    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "identity.review_opened")) >= 1)
    opened = of_type(events, "identity.review_opened")
    assert len(opened) == 1
    review = opened[0]["data"]
    assert opened[0]["subject"] == newer == review["person_id"] and review["other_person_id"] == older
    assert review["matched"] == ["first_names", "birth_date"] and review["missing"] == ["nir"]

    # Only the coordinator sees reviews; seeing the pending one shows both identities: two disclosures.
    assert (await intake.client.get("/v1/identity-reviews", headers=bearer(ml))).status_code == 403
    assert (await intake.client.get("/v1/identity-reviews", headers=bearer(keys.auditor()))).status_code == 403
    [listed] = await _pending(intake, coordinator)
    assert listed["review_id"] == review["review_id"] and listed["matched"] == ["first_names", "birth_date"]
    assert {s["person_id"]: s["identity"]["last_name"] for s in listed["shown"]} == {
        newer: YANIS_FT["last_name"], older: YANIS_ML["last_name"]}
    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "identity.disclosed")) >= 2)
    shown = of_type(events, "identity.disclosed")
    assert sorted(e["subject"] for e in shown) == sorted([newer, older])
    assert {(e["data"]["basis"], e["data"]["disclosed_to"]) for e in shown} == {("identity_review", COORDINATOR)}

    # Decided once: different people. A second decision is refused and says how it was decided.
    path = f"/v1/identity-reviews/{review['review_id']}/decision"
    assert (await intake.client.post(path, json={"decision": "different_people"}, headers=bearer(ml))).status_code \
        == 403
    naming = await intake.client.post(path, json={"decision": "different_people", "note": "Benali n'est pas lui"},
                                      headers=bearer(coordinator))
    assert naming.status_code == 422
    decided = await intake.client.post(path, json={"decision": "different_people", "note": "adresses différentes"},
                                       headers=bearer(coordinator))
    assert decided.status_code == 200, decided.text
    second_decision = await intake.client.post(path, json={"decision": "same_person"}, headers=bearer(coordinator))
    assert second_decision.status_code == 409
    assert "already decided: different_people" in second_decision.json()["detail"]
    unknown = await intake.client.post("/v1/identity-reviews/rev-nope/decision", json={"decision": "same_person"},
                                       headers=bearer(coordinator))
    assert unknown.status_code == 404
    assert await _pending(intake, coordinator) == []
    done = (await intake.client.get("/v1/identity-reviews", params={"status": "different_people"},
                                    headers=bearer(coordinator))).json()["items"]
    assert [(d["review_id"], d["decided_by"], d["note"], d["shown"]) for d in done] == [
        (review["review_id"], COORDINATOR, "adresses différentes", [])]

    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "identity.review_decided")) >= 1)
    [verdict] = of_type(events, "identity.review_decided")
    assert verdict["subject"] == newer
    assert verdict["data"]["decision"] == "different_people" and verdict["data"]["note"] == "adresses différentes"
    assert verdict["data"]["decided_by"] == COORDINATOR and verdict["data"]["review_id"] == review["review_id"]
    assert of_type(events, "person.identities_merged") == []
    await assert_nothing_planted_on_the_topics(intake)


async def test_same_person_merges_the_newer_id_into_the_older_one_with_rule_manual(intake):
    keys = Keys(intake)
    ml, cap, coordinator = await keys.partner(ML), await keys.partner(CAP), keys.coordinator()
    older = await register(intake, ml, ML, NOAH_ML)
    newer = await register(intake, cap, CAP, NOAH_CAP, ref="CAP-2025-0417")
    [listed] = await _pending(intake, coordinator)
    decided = await intake.client.post(f"/v1/identity-reviews/{listed['review_id']}/decision",
                                       json={"decision": "same_person"}, headers=bearer(coordinator))
    assert decided.status_code == 200, decided.text
    assert (decided.json()["kept_person_id"], decided.json()["merged_person_id"]) == (older, newer)

    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "person.identities_merged")) >= 1
                                   and len(of_type(evs, "identity.review_decided")) >= 1)
    [merged], [verdict] = of_type(events, "person.identities_merged"), of_type(events, "identity.review_decided")
    assert merged["data"] == {"kept_person_id": older, "merged_person_id": newer, "rule": "manual"}
    assert merged["subject"] == older and verdict["subject"] == newer  # each keyed by its own person
    assert verdict["data"]["decision"] == "same_person" and merged["causationid"] == verdict["id"]

    # Later events follow the kept id: by the merged id, and by Cap emploi's own file number.
    by_id = await intake.post(contact(CAP, newer), cap)
    by_ref = await intake.post(contact(CAP, "CAP-2025-0417"), cap)
    assert by_id.json()["results"][0]["person_id"] == by_ref.json()["results"][0]["person_id"] == older
    # Cap emploi registered the merged id: it still sees the (kept) person's identity.
    seen = await intake.client.post(f"/v1/people/{newer}/identity", json={"reason": "suivi du dossier"},
                                    headers=bearer(cap))
    assert seen.status_code == 200 and seen.json()["person_id"] == older
    assert [e["subject"] for e in of_type(await intake_events(intake), "identity.review_opened")] == [newer]
    await assert_nothing_planted_on_the_topics(intake)
