"""A partner chooses its events' ids, and Cap emploi writes its file number in them (`CAP-…-inscription`).

Cap emploi registers Lina under such ids, then she is erased. Afterwards no table of intake's store holds her
file number, neither as a reference nor inside an event id, while what the partner and the readers of the
topic rely on still holds: the same event sent again is a duplicate (nothing is published again), a different
event under that id is a conflict, and another structure's event with that id is still published under its
own scoped id (the erased person's id is still on Kafka, and readers key by id).
"""

from __future__ import annotations

import uuid

from identity_scenes import CAP, LINA, ML, NOAH_ML, Keys, bearer, of_type, wait_for_events
from intake_harness import contact, registration
from sqlalchemy import inspect, table, select, literal_column


async def _store_text(intake) -> str:  # noqa: ANN001
    """Every row of every table of intake's database, as text (bytes decoded leniently)."""
    async with intake.ctx.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        out = []
        for name in names:
            for row in (await conn.execute(select(literal_column("*")).select_from(table(name)))).all():
                out += [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row]
    return "\n".join(out)


async def test_after_an_erasure_the_partners_event_ids_are_forgotten_and_still_deduplicate(intake):
    keys = Keys(intake)
    cap, ml = await keys.partner(CAP), await keys.partner(ML)
    file_number = f"CAP-{uuid.uuid4().hex[:6]}"
    registered = registration(CAP, ref=file_number, identity=LINA, event_id=f"{file_number}-inscription")
    answer = await intake.post(registered, cap)
    assert answer.status_code == 202, answer.text
    person = answer.json()["results"][0]["person_id"]
    assert (await intake.post(contact(CAP, person, event_id=f"{file_number}-contact-1"), cap)).status_code == 202
    assert file_number in await _store_text(intake)  # the check below can see it

    erased = await intake.client.post("/v1/erasures", headers=bearer(keys.coordinator()), json={
        "structure_id": CAP, "file_number": file_number, "reason": "person_request"})
    assert erased.status_code == 200 and erased.json()["status"] == "erased", erased.text
    assert file_number not in await _store_text(intake)

    # Cap emploi's client retries: the same event is a duplicate, nothing comes back and nothing is published.
    again = await intake.post(registered, cap)
    assert again.status_code == 202 and again.json()["results"][0]["status"] == "duplicate", again.text
    # The same id for another event is a conflict, as before the erasure; nothing is written.
    changed = {**registered, "data": {**registered["data"], "registered_on": "2025-02-04"}}
    conflict = await intake.post(changed, cap)
    assert conflict.status_code == 409 and conflict.json()["results"][0]["status"] == "conflict", conflict.text
    assert file_number not in await _store_text(intake)

    # The Mission locale happens to use the same id: Lina's registration is still on Kafka under that id, so
    # Noah's is published under the Mission locale's scoped id, and readers keep both.
    noah = await intake.post(registration(ML, identity=NOAH_ML, event_id=registered["id"]), ml)
    assert noah.status_code == 202 and noah.json()["results"][0]["status"] == "accepted", noah.text
    events = await wait_for_events(intake, lambda evs: len(of_type(evs, "person.registered")) == 2)
    assert sorted(e["id"] for e in of_type(events, "person.registered")) == sorted(
        [registered["id"], f"{ML}:{registered['id']}"])
    assert len(of_type(events, "contact.recorded")) == 1  # the retry published nothing
