"""One person_id per person across structures; credentials decide who may speak for which structure."""

from __future__ import annotations

import json
import time

from intake_harness import intake_topic, read_topic, registration

from services.intake.domain import api_keys
from services.intake.store import credentials


async def test_same_person_registered_by_two_structures_with_and_without_nir_gets_one_person_id(intake):
    ml = await intake.key_for("mission_locale_angevine")
    ft = await intake.key_for("france_travail_angers_est")
    # The Mission locale knows the NIR; France Travail only the names, written differently, and the birth date.
    with_nir = registration("mission_locale_angevine", identity={
        "nir": "2 99 05 49 007 123 45", "last_name": "Lefèvre", "first_names": "Anne-Sophie",
        "birth_date": "1999-05-14"})
    without_nir = registration("france_travail_angers_est", identity={
        "last_name": "LEFEVRE", "first_names": "anne sophie", "birth_date": "1999-05-14"})
    a = await intake.post(with_nir, ml)
    b = await intake.post(without_nir, ft)
    assert a.status_code == b.status_code == 202, (a.text, b.text)
    pid_a, pid_b = a.json()["results"][0]["person_id"], b.json()["results"][0]["person_id"]
    assert pid_a == pid_b
    # Someone else born the same day is another person.
    other = registration("france_travail_angers_est", identity={
        "last_name": "Durand", "first_names": "Paul", "birth_date": "1999-05-14"})
    c = await intake.post(other, ft)
    assert c.json()["results"][0]["person_id"] != pid_a


async def test_forbidden_source_is_refused_with_403_and_nothing_is_written(intake):
    ml = await intake.key_for("mission_locale_angevine")
    posing = registration("cap_emploi_49", identity={"last_name": "Martin", "first_names": "Léa",
                                                     "birth_date": "2000-01-01"})
    honest = registration("mission_locale_angevine", identity={"last_name": "Roux", "first_names": "Lina",
                                                               "birth_date": "2001-02-02"})
    answer = await intake.post([honest, posing], ml)
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden_source"
    unauthenticated = await intake.client.post("/v1/events", json=honest)
    assert unauthenticated.status_code == 401
    wrong_key = await intake.post(honest, ml[:-3] + "xyz")
    assert wrong_key.status_code == 401
    # Nothing reached Kafka, and nothing waits in the outbox either.
    assert await read_topic(intake.bootstrap, intake_topic(intake.prefix)) == []
    assert await intake.ctx.relay.pending_count() == 0


async def test_revoked_key_no_longer_authenticates_and_signed_requests_work(intake):
    async with intake.ctx.session_factory() as session, session.begin():
        issued = await credentials.add_key(session, intake.ctx.deps.vault, "plie_angers")
    event = registration("plie_angers", identity={"last_name": "Petit", "first_names": "Noé",
                                                  "birth_date": "1990-03-03"})
    body = json.dumps(event).encode()
    secret = api_keys.split_key(issued.token)[1]
    ts = str(int(time.time()))
    signed = {api_keys.KEY_ID_HEADER: issued.key_id, api_keys.TIMESTAMP_HEADER: ts,
              api_keys.SIGNATURE_HEADER: api_keys.sign(api_keys.signing_key(secret), ts, body),
              "content-type": "application/json"}
    ok = await intake.client.post("/v1/events", content=body, headers=signed)
    assert ok.status_code == 202, ok.text
    stale = dict(signed, **{api_keys.TIMESTAMP_HEADER: str(int(time.time()) - 3600)})
    assert (await intake.client.post("/v1/events", content=body, headers=stale)).status_code == 401
    tampered = await intake.client.post("/v1/events", content=body.replace(b"Petit", b"Petiot"), headers=signed)
    assert tampered.status_code == 401
    async with intake.ctx.session_factory() as session, session.begin():
        assert await credentials.revoke_key(session, issued.key_id)
    assert (await intake.post(event, issued.token)).status_code == 401


async def test_http_limits_and_malformed_requests(intake):
    token = await intake.key_for("mission_locale_angevine")
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    assert (await intake.client.post("/v1/events", content=b"{not json", headers=headers)).status_code == 400
    too_many = [registration() for _ in range(501)]
    assert (await intake.post(too_many, token)).status_code == 413
    huge = b"[" + b" " * 2_100_000 + b"]"
    assert (await intake.client.post("/v1/events", content=huge, headers=headers)).status_code == 413
    invalid = registration()
    invalid["data"]["birth_year"] = "long ago"
    answer = await intake.post(invalid, token)
    assert answer.status_code == 422
    assert answer.json()["results"][0]["errors"][0]["loc"] == "data.birth_year"
