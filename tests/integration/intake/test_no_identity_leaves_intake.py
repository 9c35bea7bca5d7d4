"""Planted NIRs, names, e-mails and phones never appear on any topic nor in any log line of an intake run."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys

import structlog

from aiokafka import AIOKafkaProducer
from intake_harness import contact, partner_topic, read_topic, registration

from contracts import topics
from tests.support.kafka import admin_security

PEOPLE = [
    {"nir": "2 91 03 49 007 421 77", "last_name": "Zéphirine-Quillard", "first_names": "Oriane",
     "birth_date": "1991-03-21", "email": "oriane.quillard@example.org", "phone": "06 71 82 93 04"},
    {"last_name": "Brouwenstijn", "first_names": "Thelonius", "birth_date": "1988-11-02",
     "email": "thelonius.b@example.net", "phone": "+33 7 55 44 33 22"},
    {"nir": "1 77 08 49 353 908 61", "last_name": "Kerhervé", "first_names": "Gwenolé", "birth_date": "1977-08-09",
     "phone": "02 41 00 11 22"},
]


class _Tee(io.TextIOBase):
    def __init__(self, *targets) -> None:  # noqa: ANN002
        self.targets = targets

    def write(self, text: str) -> int:
        for target in self.targets:
            target.write(text)
        return len(text)

    def flush(self) -> None:
        for target in self.targets:
            target.flush()


def planted() -> set[str]:
    out: set[str] = set()
    for person in PEOPLE:
        for field in ("last_name", "first_names", "email", "phone", "nir"):
            if person.get(field):
                out.add(person[field])
        if person.get("nir"):
            out.add(person["nir"].replace(" ", ""))
        out.add(person["phone"].replace(" ", ""))
    return out


async def test_scan_every_topic_and_log_line_for_planted_identities(intake, caplog):
    # Every structlog line the service renders from now on is also kept here (same processors, same JSON), at
    # DEBUG: the lines of each accepted event are at debug, and an operator may turn them on.
    lines = io.StringIO()
    level = structlog.get_config()["wrapper_class"]
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=_Tee(lines, sys.stderr)),
                        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        await _plant_and_scan(intake, caplog, lines)
    finally:
        structlog.configure(wrapper_class=level)


async def _plant_and_scan(intake, caplog, lines: io.StringIO) -> None:  # noqa: ANN001
    token = await intake.key_for("mission_locale_angevine")
    regs = [registration(identity=p) for p in PEOPLE]
    answer = await intake.post(regs, token)
    assert answer.status_code == 202, answer.text
    pid = answer.json()["results"][0]["person_id"]
    # A profile update carrying new contact details, a refused registration (no identity), a batch with errors.
    update = {"specversion": "1.0", "id": "upd-1", "source": "mission_locale_angevine",
              "type": "fr.ariane.person.profile_updated", "subject": pid, "time": "2025-03-01T10:00:00+01:00",
              "data": {"structure_id": "mission_locale_angevine", "rsa": True,
                       "identity": {"email": "oriane.quillard@example.org", "phone": "06 71 82 93 04"}}}
    broken = registration(identity=dict(PEOPLE[1], email="not an email Brouwenstijn"))
    assert (await intake.post([update, broken, contact("mission_locale_angevine", pid)], token)).status_code == 202
    # And over Kafka: one good, one refused with its identity (dead-lettered, redacted).
    producer = AIOKafkaProducer(bootstrap_servers=intake.bootstrap, **admin_security(intake.bootstrap))
    await producer.start()
    try:
        for event in (registration("cap_emploi_49", identity=PEOPLE[2]),
                      registration("nobody_here", identity=PEOPLE[0])):
            # the unknown structure's event arrives on a real partner's topic: refused, dead-lettered
            await producer.send_and_wait(partner_topic(intake.prefix, "cap_emploi_49"), json.dumps(event).encode(),
                                         key=event["subject"].encode())
    finally:
        await producer.stop()

    deadline = asyncio.get_running_loop().time() + 30
    while True:
        letters = await read_topic(intake.bootstrap, intake.prefix + topics.DEADLETTER)
        intake_events = await read_topic(intake.bootstrap, intake.prefix + topics.INTAKE)
        if any(b"letter_id" in v for _, v in letters) and len(intake_events) >= 6:
            break
        assert asyncio.get_running_loop().time() < deadline, "intake did not process the inbound events"
        await asyncio.sleep(0.2)

    haystacks: list[tuple[str, str]] = []
    for topic in topics.ALL_TOPICS:  # not the partners' own topics: the one place identities are allowed
        for key, value in await read_topic(intake.bootstrap, intake.prefix + topic):
            haystacks.append((topic, (key or b"").decode("utf-8", "replace") + " " + value.decode("utf-8", "replace")))
    logs = lines.getvalue() + caplog.text
    haystacks.append(("logs", logs))
    assert len(haystacks) > 6 and '"event": "accepted"' in logs and "dead_lettered" in logs  # the scan saw them
    for where, text in haystacks:
        for secret in planted():
            assert secret.casefold() not in text.casefold(), f"{secret!r} leaked into {where}"
