"""A structure's file numbers stay in intake: no topic ever carries them, each structure reads its own back (the
coordinator any structure's), and an erasure leaves none anywhere.

Cap emploi registers Lina (its file CAP-…) and so does the Mission locale (ML-…), which also registers Yanis.
Nothing on any topic names a file number. The Mission locale's counsellor reads the numbers of the people on
its worklist: its own, never Cap emploi's; a number typed in a search finds the person. Lina is erased: her
numbers are gone from intake, Yanis's stay, and still no topic holds any of them.
"""

from __future__ import annotations

import uuid

from identity_scenes import CAP, LINA, ML, YANIS_ML, Keys, assert_on_no_topic, bearer, of_type, register, \
    wait_for_events


async def numbers(intake, token: str, **asked) -> set[tuple[str, str, str]]:  # noqa: ANN001
    answer = await intake.client.post("/v1/file-numbers", json=asked, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return {(i["person_id"], i["structure_id"], i["file_number"]) for i in answer.json()["items"]}


async def test_file_numbers_are_read_from_intake_only_by_their_structure_and_go_with_the_erasure(intake):
    keys = Keys(intake)
    cap, ml = await keys.partner(CAP), await keys.partner(ML)
    ml_counsellor, coordinator, auditor = keys.counsellor(ML), keys.coordinator(), keys.auditor()
    cap_file, ml_file, yanis_file = (f"{p}-{uuid.uuid4().hex[:6]}" for p in ("CAP", "ML", "MLY"))

    lina = await register(intake, cap, CAP, LINA, ref=cap_file)
    assert await register(intake, ml, ML, LINA, ref=ml_file) == lina
    yanis = await register(intake, ml, ML, YANIS_ML, ref=yanis_file)
    await wait_for_events(intake, lambda evs: len(of_type(evs, "person.registered")) == 3)
    await assert_on_no_topic(intake, cap_file, ml_file, yanis_file)

    # Each structure reads its own numbers of the people on its page, never another structure's.
    assert await numbers(intake, ml_counsellor, person_ids=[lina, yanis]) == {(lina, ML, ml_file),
                                                                              (yanis, ML, yanis_file)}
    assert await numbers(intake, cap, person_ids=[lina, yanis]) == {(lina, CAP, cap_file)}
    assert await numbers(intake, coordinator, person_ids=[lina]) == {(lina, ML, ml_file), (lina, CAP, cap_file)}
    assert await numbers(intake, coordinator, person_ids=[lina], structure_id=CAP) == {(lina, CAP, cap_file)}
    # A number typed in a search, bare or as on an event's subject, names the person; another's number does not.
    assert await numbers(intake, ml_counsellor, file_numbers=[ml_file]) == {(lina, ML, ml_file)}
    assert await numbers(intake, ml_counsellor, file_numbers=[f"{ML}:{ml_file}"]) == {(lina, ML, ml_file)}
    assert await numbers(intake, ml_counsellor, file_numbers=[cap_file]) == set()

    for token, asked in ((ml_counsellor, {"person_ids": [lina], "structure_id": CAP}),
                         (auditor, {"person_ids": [lina]})):
        refused = await intake.client.post("/v1/file-numbers", json=asked, headers=bearer(token))
        assert refused.status_code == 403, refused.text
        assert cap_file not in refused.text and ml_file not in refused.text
    too_many = await intake.client.post("/v1/file-numbers", json={"person_ids": [lina] * 1001},
                                        headers=bearer(ml_counsellor))
    assert too_many.status_code == 422
    nobody = await intake.client.post("/v1/file-numbers", json={"person_ids": [lina]})
    assert nobody.status_code == 401

    erased = await intake.client.post("/v1/erasures", json={"person_id": lina, "reason": "person_request"},
                                      headers=bearer(coordinator))
    assert erased.status_code == 200, erased.text
    assert await numbers(intake, ml_counsellor, person_ids=[lina, yanis]) == {(yanis, ML, yanis_file)}
    assert await numbers(intake, ml_counsellor, file_numbers=[ml_file]) == set()
    assert await numbers(intake, coordinator, person_ids=[lina]) == set()
    await wait_for_events(intake, lambda evs: len(of_type(evs, "person.erased")) == 1)
    await assert_on_no_topic(intake, cap_file, ml_file, yanis_file)
