"""An event about an erased person is refused, and the metric names that reason: `person_erased` is its own
value of the closed set of refusal reasons, not lumped with the unexpected ones under `other`."""

from __future__ import annotations

from identity_scenes import CAP, Keys, bearer, register
from intake_harness import contact


async def test_an_event_about_an_erased_person_is_counted_as_person_erased(intake):
    keys = Keys(intake)
    cap = await keys.partner(CAP)
    person = await register(intake, cap, CAP, {"last_name": "Garnier", "first_names": "Inès",
                                               "birth_date": "1997-06-14"})
    erased = await intake.client.post("/v1/erasures", json={"person_id": person, "reason": "person_request"},
                                      headers=bearer(keys.coordinator()))
    assert erased.status_code == 200, erased.text

    refused = await intake.post(contact(CAP, person), cap)
    assert refused.status_code == 422 and refused.json()["results"][0]["reason"] == "person_erased"

    lines = [line for line in (await intake.client.get("/metrics")).text.splitlines()
             if line.startswith("ariane_intake_events_total{") and 'outcome="rejected"' in line]
    assert [line for line in lines if 'reason="person_erased"' in line and line.endswith(" 1.0")], lines
    assert not [line for line in lines if 'reason="other"' in line], lines
