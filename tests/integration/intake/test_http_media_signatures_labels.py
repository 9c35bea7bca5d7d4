"""Over HTTP: Content-Type is checked (415), signed timestamps are finite Unix seconds, a made-up event
type never becomes a metric label, and text holding U+0000 is refused with its field."""

from __future__ import annotations

import json
import time

from intake_harness import registration

from services.intake.domain import api_keys
from services.intake.store import credentials


async def test_an_unsupported_content_type_is_415(intake):
    token = await intake.key_for("mission_locale_angevine")
    body = json.dumps(registration(identity={"last_name": "Roux", "first_names": "Léa", "birth_date": "1999-01-02"}))
    for media in ("text/plain", "application/x-www-form-urlencoded", ""):
        answer = await intake.client.post("/v1/events", content=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": media})
        assert answer.status_code == 415, media
    ok = await intake.client.post("/v1/events", content=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents+json; charset=utf-8"})
    assert ok.status_code == 202


async def test_signed_requests_need_a_finite_timestamp(intake):
    async with intake.ctx.session_factory() as session, session.begin():
        issued = await credentials.add_key(session, intake.ctx.deps.vault, "plie_angers")
    body = json.dumps(registration("plie_angers", identity={"last_name": "Petit", "first_names": "Noé",
                                                            "birth_date": "1990-03-03"})).encode()
    key = api_keys.signing_key(api_keys.split_key(issued.token)[1])
    now = int(time.time())
    for ts in ("nan", "inf", "-inf", f" {now}", f"{now}e0", f"{now:_}"):
        signed = {api_keys.KEY_ID_HEADER: issued.key_id, api_keys.TIMESTAMP_HEADER: ts,
                  api_keys.SIGNATURE_HEADER: api_keys.sign(key, ts, body), "content-type": "application/json"}
        assert (await intake.client.post("/v1/events", content=body, headers=signed)).status_code == 401, ts


async def test_made_up_event_types_never_become_metric_labels(intake):
    token = await intake.key_for("mission_locale_angevine")
    made_up = [dict(registration(), type=f"fr.ariane.madeup_{i}") for i in range(20)]
    assert (await intake.post(made_up, token)).status_code == 422
    metrics = (await intake.client.get("/metrics")).text
    assert "madeup" not in metrics
    assert 'type="unknown"' in metrics


async def test_a_nul_character_is_refused_with_its_field_and_the_corrected_event_is_accepted(intake):
    # A partner's export leaves a NUL byte in a name and in an event id: each event is refused with the field
    # named (PostgreSQL could not have stored it), the clean event of the same request goes through, and the
    # corrected events are then accepted.
    token = await intake.key_for("mission_locale_angevine")
    identity = {"last_name": "Roux", "first_names": "Léa", "birth_date": "1999-01-02"}
    in_name = registration(identity=dict(identity, last_name="Ro\x00ux"))
    in_id = registration(identity=identity, event_id="evt-\x00-7")
    clean = registration(identity={"last_name": "Morel", "first_names": "Ana", "birth_date": "2001-05-06"})
    answer = await intake.post([in_name, in_id, clean], token)
    assert answer.status_code == 202, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "accepted"]
    assert [e["loc"] for e in results[0]["errors"]] == ["data.identity.last_name"]
    assert results[0]["errors"][0]["type"] == "string_nul"
    assert [e["loc"] for e in results[1]["errors"]] == ["id"] and results[1]["id"] is None
    assert "Ro\\u0000ux" not in answer.text and "Ro\x00ux" not in answer.text

    fixed = [dict(in_name, data=dict(in_name["data"], identity=identity)), dict(in_id, id="evt-7")]
    again = await intake.post(fixed, token)
    assert again.status_code == 202, again.text
    assert [r["status"] for r in again.json()["results"]] == ["accepted", "accepted"]
