"""Personal data planted in every free-text and id field, over HTTP and over Kafka, is found nowhere after
intake: not on ariane.intake.v1, not on the dead-letter topic (values or keys), not in a log line, not in
/metrics. The same run with the firewall switched off finds it: the scan can see what it looks for."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import uuid

import pytest
import structlog
from aiokafka import AIOKafkaProducer
from intake_harness import RunningIntake, intake_settings, read_topic

from contracts import topics
from services.intake.app import definition
from tests.support.services import running_service, test_settings

try:  # the broker's client credentials, when the test broker asks for them
    from tests.support.kafka import admin_security
except ImportError:  # pragma: no cover
    def admin_security(bootstrap: str) -> dict:  # noqa: ARG001
        return {}

ML = "mission_locale_angevine"
NIR, NIR_COMPACT = "2 91 03 49 007 421 77", "291034900742177"
EMAIL, PHONE, PHONE_COMPACT = "oriane.quillard@example.org", "06 71 82 93 04", "0671829304"
IBAN = "FR7630006000011234567890189"
IDENTITY = {"nir": NIR, "last_name": "Zéphirine-Quillard", "first_names": "Oriane", "birth_date": "1991-03-21",
            "email": EMAIL, "phone": PHONE}
PLANTED = (NIR, NIR_COMPACT, EMAIL, PHONE, PHONE_COMPACT, IBAN, "Quillard", "Oriane", "Zéphirine")


class _Tee(io.TextIOBase):
    def __init__(self, *targets) -> None:  # noqa: ANN002
        self.targets = targets

    def write(self, text: str) -> int:
        for target in self.targets:
            target.write(text)
        return len(text)


def _envelope(event_type: str, subject: str, data: dict, **attrs) -> dict:
    return {"specversion": "1.0", "id": f"evt-{uuid.uuid4()}", "source": ML, "type": f"fr.ariane.{event_type}",
            "subject": subject, "time": "2026-03-02T09:00:00+01:00", "data": data, **attrs}


def planted_events(ref: str) -> list[dict]:
    """One event per place personal data may be slipped in, each otherwise valid."""
    job = {"job_id": "job-1", "employer": "Garage du centre", "contract_type": "cdi", "hours_per_week": 35,
           "structure_id": ML}
    issued = {"referral_id": "ref-1", "kind": "prescription", "from_structure": ML, "to_structure": "plie_angers",
              "reason": "Accompagnement PLIE", "due_date": "2026-03-16"}
    refused = {"referral_id": "ref-1", "structure_id": ML, "reason_code": "no_capacity", "comment": "Cohorte complète"}
    registered = {"structure_id": ML, "registered_on": "2026-03-02", "birth_year": 1991, "commune_insee": "49007",
                  "qpv_resident": True, "rqth": False, "rsa": False, "single_parent": False,
                  "education_level": "4", "identity": IDENTITY}
    u = uuid.uuid4().hex[:6]
    return [
        _envelope("person.registered", f"R-{u}", dict(registered, partner_ref=f"dossier {NIR}")),
        _envelope("person.registered", f"R2-{u}", dict(registered, partner_ref=f"Oriane-{u}")),
        _envelope("job.started", ref, dict(job, employer=f"Boulangerie Quillard, {PHONE}")),
        _envelope("job.started", ref, dict(job, job_id=f"job-{PHONE_COMPACT}")),
        _envelope("referral.issued", ref, dict(issued, reason=f"écrire à {EMAIL}")),
        _envelope("referral.issued", ref, dict(issued, referral_id=f"ref-{IBAN}")),
        _envelope("referral.refused", ref, dict(refused, comment=f"IBAN {IBAN} fourni")),
        _envelope("contact.recorded", ref, {"structure_id": ML, "channel": "phone", "reached": True},
                  correlationid=f"corr-{NIR_COMPACT}"),
        _envelope("contact.recorded", ref, {"structure_id": ML, "channel": "phone", "reached": True},
                  causationid=PHONE_COMPACT),
        _envelope("contact.recorded", ref, {"structure_id": ML, "channel": "phone", "reached": True},
                  dataschema=f"mailto:{EMAIL}"),
        _envelope("contact.recorded", ref, {"structure_id": ML, "channel": "phone", "reached": True},
                  id=f"evt-{NIR_COMPACT}"),
        _envelope("contact.recorded", f"{ref}", {"structure_id": ML, "channel": "phone", "reached": True},
                  type=f"fr.ariane.{NIR_COMPACT}"),
    ]


def misspelt_identity(ref: str) -> dict:
    event = _envelope("person.registered", ref, {"structure_id": ML, "registered_on": "2026-03-02",
                                                 "birth_year": 1991, "commune_insee": "49007", "qpv_resident": True,
                                                 "rqth": False, "rsa": False, "single_parent": False,
                                                 "education_level": "4", "identiy": IDENTITY})
    event["identity"] = IDENTITY  # and once more at the top level
    return event


@pytest.fixture(params=[True, False], ids=["firewall_on", "firewall_off"])
async def guarded(request, kafka_bootstrap: str, database_url: str, topic_prefix: str):
    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix)
    async with running_service(definition(intake_settings(pii_firewall=request.param)), settings) as (app, client):
        yield request.param, RunningIntake(app.state.ctx, client, topic_prefix, kafka_bootstrap)


async def test_planted_personal_data_is_found_nowhere_after_intake(guarded):
    firewall, intake = guarded
    lines = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=_Tee(lines, sys.stderr)))
    token = await intake.key_for(ML)
    ref = f"CLEAN-{uuid.uuid4().hex[:6]}"
    clean = _envelope("person.registered", ref, {
        "structure_id": ML, "registered_on": "2026-03-02", "birth_year": 1991, "commune_insee": "49007",
        "qpv_resident": True, "rqth": False, "rsa": False, "single_parent": False, "education_level": "4",
        "partner_ref": ref, "identity": IDENTITY})
    assert (await intake.post(clean, token)).status_code == 202

    over_http = planted_events(ref)
    answers = [(await intake.post(event, token)) for event in over_http]
    if firewall:
        assert all(a.status_code == 422 for a in answers), [a.status_code for a in answers]
        for answer in answers:
            result = answer.json()["results"][0]
            assert result["reason"] in ("personal_data", "invalid_event") and result["errors"]
    over_kafka = [*planted_events(ref), misspelt_identity(ref)]
    producer = AIOKafkaProducer(bootstrap_servers=intake.bootstrap, **admin_security(intake.bootstrap))
    await producer.start()
    try:
        for event in over_kafka:  # keyed as a careless partner would: name and NIR
            await producer.send_and_wait(intake.prefix + topics.inbound_topic(event["source"]),
                                         json.dumps(event).encode(),
                                         key=f"Oriane Quillard {NIR_COMPACT}".encode())
    finally:
        await producer.stop()

    for _ in range(150):
        published = await read_topic(intake.bootstrap, intake.prefix + topics.INTAKE)
        letters = await read_topic(intake.bootstrap, intake.prefix + topics.DEADLETTER)
        if (len(letters) >= len(over_kafka)) if firewall else (len(published) >= len(over_http)):
            break
        await asyncio.sleep(0.2)
    metrics = (await intake.client.get("/metrics")).text
    places = {"ariane.intake.v1": published, "ariane.deadletter.v1": letters}
    haystacks = {name: "\n".join((k or b"").decode("utf-8", "replace") + " " + v.decode("utf-8", "replace")
                                 for k, v in records) for name, records in places.items()}
    haystacks["logs"] = lines.getvalue()
    haystacks["/metrics"] = metrics
    found = {(where, value) for where, text in haystacks.items() for value in PLANTED
             if value in text or json.dumps(value)[1:-1] in text}
    assert len(letters) >= len(over_kafka) if firewall else len(published) > 1  # the scan saw the records
    if firewall:
        assert found == set()
        assert 'type="unknown"' in metrics
    else:
        assert {"ariane.intake.v1"} <= {where for where, _ in found}
