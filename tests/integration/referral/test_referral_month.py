"""A simulated month on the real broker and a real database: 1,000 registrations, scripted partners, a restart.

Partners act as they would: they read the referrals sent to them from the read API and answer on the intake
topic, some on time, some late, some never, some by refusing. The expected outcome is computed below from the
script alone, with date arithmetic, never by calling the referral domain.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import func, select

from contracts import topics
from contracts.clock import DayStarted
from contracts.people import PersonRegistered, PersonRegisteredData
from contracts.referrals import (
    ReferralAccepted,
    ReferralAcceptedData,
    ReferralAcknowledged,
    ReferralAcknowledgedData,
    ReferralRefused,
    ReferralRefusedData,
)
from contracts.topics import key_for
from services.referral.app import definition
from services.referral.store import tables
from services.runtime.credentials import CredentialsBook
from tests.support.kafka import admin_security
from tests.support.services import running_service
from tests.support.services import test_settings as service_settings

PARIS = ZoneInfo("Europe/Paris")
START = date(2026, 1, 1)
DAYS = 31  # ticks of 1..31 January
PEOPLE = 1000
RESTART_AFTER_DAY = 15
REGISTRANT = "france_travail_angers_centre"
ML, CAP, DEP, FT, CITE = ("mission_locale_angevine", "cap_emploi_49", "departement_49",
                          "france_travail_angers_centre", "aldev_cite_emploi")
COORDINATOR = "coordination_territoriale"  # the territory's coordinator: a role, not the Cité's structure


def person(i: int) -> str:
    return f"p-{i:04d}"


def category(person_id: str) -> int:
    return int(person_id.split("-")[1]) % 8


def registration_day(i: int) -> int:
    return i % 15


def profile(i: int) -> dict:
    # 0, 4, 7: under 26 (Mission locale); 1, 5: RQTH (Cap emploi); 2, 6: RSA (Département); 3: France Travail,
    # which registered them. Every tenth person lives in a QPV (an extra referral to the Cité de l'emploi).
    c = i % 8
    return {"birth_year": 2004 if c in (0, 4, 7) else 1980, "rqth": c in (1, 5), "rsa": c in (2, 6),
            "qpv_resident": i % 10 == 0, "single_parent": False}


# The partners' script: (receiving structure, category) -> {days after issue: answer}.
SCRIPT: dict[tuple[str, int], dict[int, str]] = {
    (ML, 0): {1: "ack", 3: "accept"},  # on time
    (ML, 4): {20: "accept"},  # late: after the expiry on day 16
    (CAP, 1): {2: "refuse"},
    (CAP, 5): {1: "ack"},  # acknowledges, then never decides
    (DEP, 2): {10: "accept"},
    (DEP, 6): {5: "refuse"},
    (FT, 1): {5: "accept"},  # France Travail takes up the people Cap emploi refused
}


def expected_outcome() -> Counter:
    """Final status of every referral, re-orientations and escalations, from the script by hand."""
    out: Counter = Counter()
    last = DAYS - 1
    for i in range(PEOPLE):
        r, c = registration_day(i), i % 8
        if i % 10 == 0:
            out["expired"] += 1  # the Cité de l'emploi never answers: expires on day r+16 <= 30, no follow-up
        if c == 0:
            out["accepted"] += 1
        elif c == 1:  # refused on r+2, re-oriented to France Travail, accepted on r+7
            out.update({"refused": 1, "reoriented": 1, "accepted": 1})
        elif c == 2:
            out["accepted"] += 1
        elif c == 4:  # expires on r+16, re-oriented to FT (due r+31); accepted late on r+20 if in the month, which
            # withdraws the re-orientation to FT it made unnecessary
            out.update({"reoriented": 1, "accepted" if r + 20 <= last else "expired": 1})
            out["withdrawn" if r + 20 <= last else "issued"] += 1
            out["late"] += r + 20 <= last
        elif c == 5:  # acknowledged, expires on r+16, re-oriented to FT which stays silent
            out.update({"expired": 1, "reoriented": 1, "issued": 1})
        elif c == 6:  # refused on r+5, re-oriented to FT due r+20: expired on r+21, then escalated
            out.update({"refused": 1, "reoriented": 1})
            if r + 21 <= last:
                out.update({"expired": 1, "escalated": 1, "issued": 1})
            else:
                out["issued"] += 1
        elif c == 7:  # the Mission locale never answers: expired on r+16, re-oriented to FT
            out.update({"expired": 1, "reoriented": 1, "issued": 1})
    return out


def at(day: int, hour: int) -> datetime:
    return datetime.combine(START + timedelta(days=day), time(hour), tzinfo=PARIS)


def registration(i: int) -> PersonRegistered:
    day = registration_day(i)
    return PersonRegistered(
        id=f"reg-{i:04d}", source=REGISTRANT, subject=person(i), time=at(day, 10),
        data=PersonRegisteredData(structure_id=REGISTRANT, registered_on=START + timedelta(days=day),
                                  commune_insee="49007", education_level="4", **profile(i)))


def answer(kind: str, row: dict, day: int):
    common = {"id": f"ans-{row['referral_id']}-{kind}", "source": row["to_structure"], "subject": row["person_id"],
              "time": at(day, 12)}
    ids = {"referral_id": row["referral_id"], "structure_id": row["to_structure"]}
    if kind == "ack":
        return ReferralAcknowledged(**common, data=ReferralAcknowledgedData(**ids))
    if kind == "accept":
        return ReferralAccepted(**common, data=ReferralAcceptedData(**ids))
    reason = "no_capacity" if row["to_structure"] == CAP else "person_declined"
    return ReferralRefused(**common, data=ReferralRefusedData(**ids, reason_code=reason))


class Month:
    """Drives the month: produces, then waits until the service has processed everything produced."""

    def __init__(self, producer: AIOKafkaProducer, prefix: str, coordinator_token: str) -> None:
        self.producer = producer
        self.prefix = prefix
        self.produced = 0
        self.coordinator = {"authorization": f"Bearer {coordinator_token}"}

    async def send(self, topic: str, events: list) -> None:
        futures = [await self.producer.send(self.prefix + topic, e.to_json_bytes(), key=key_for(e.subject))
                   for e in events]
        await asyncio.gather(*futures)
        self.produced += len(events)

    async def settle(self, app, timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        ctx = app.state.ctx
        while True:
            async with ctx.session_factory() as session:
                done = (await session.execute(select(func.count()).select_from(tables.inbox))).scalar_one()
            if done >= self.produced:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the service processed {done} of {self.produced} events")
            await asyncio.sleep(0.05)

    async def day(self, app, client, k: int) -> None:
        await self.send(topics.CLOCK, [DayStarted.for_day(START + timedelta(days=k))])
        await self.settle(app)
        await self.send(topics.INTAKE, [registration(i) for i in range(PEOPLE) if registration_day(i) == k])
        await self.settle(app)
        rows = (await client.get("/v1/referrals", params={"limit": 5000}, headers=self.coordinator)).json()
        answers = []
        for row in rows:
            offset = (date.fromisoformat(row["issued_on"]) - START).days
            kind = SCRIPT.get((row["to_structure"], category(row["person_id"])), {}).get(k - offset)
            if kind:
                answers.append(answer(kind, row, k))
        await self.send(topics.INTAKE, answers)
        await self.settle(app)


async def referral_event_ids(bootstrap: str, topic: str) -> list[tuple[str, str]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **admin_security(bootstrap), enable_auto_commit=False,
                                isolation_level="read_committed", auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - the topic was created by the fixture
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        out: list[tuple[str, str]] = []
        deadline = asyncio.get_running_loop().time() + 30
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            assert asyncio.get_running_loop().time() < deadline, "could not read the referral topic to its end"
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for rec in records:
                    event = json.loads(rec.value)
                    out.append((event["id"], event["type"]))
        return out
    finally:
        await consumer.stop()


async def test_a_month_of_referrals_survives_a_restart(kafka_bootstrap, topic_prefix, database_url, tmp_path):
    book = CredentialsBook(tmp_path / "credentials.json")
    coordinator_token = book.issue("coordinator", COORDINATOR).token
    ml_token = book.issue("partner", ML).token
    settings = service_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix,
                                credentials_file=book.path)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap), enable_idempotence=True, linger_ms=5)
    await producer.start()
    month = Month(producer, topic_prefix, coordinator_token)
    try:
        # First half of the month, then the service stops (graceful) ...
        async with running_service(definition(), settings) as (app, client):
            for k in range(RESTART_AFTER_DAY + 1):
                await month.day(app, client, k)
        # ... and starts again on the same database, consumer group and topics, for the rest of the month.
        async with running_service(definition(), settings) as (app, client):
            for k in range(RESTART_AFTER_DAY + 1, DAYS):
                await month.day(app, client, k)
            everything = (await client.get("/v1/referrals", params={"limit": 5000}, headers=month.coordinator)).json()
            mission_locale = (await client.get("/v1/referrals", params={"limit": 5000},
                                               headers={"authorization": f"Bearer {ml_token}"})).json()
            assert (await client.get("/v1/referrals")).status_code == 401
            assert (await client.get("/v1/referrals", params={"to": CAP},
                                     headers={"authorization": f"Bearer {ml_token}"})).status_code == 403
            metrics = (await client.get("/metrics")).text
    finally:
        await producer.stop()

    expected = expected_outcome()
    statuses = Counter(row["status"] for row in everything)
    origins = Counter(row["origin"] for row in everything)
    assert statuses["accepted"] == expected["accepted"]
    assert statuses["refused"] == expected["refused"]
    assert statuses["expired"] == expected["expired"]
    assert statuses["issued"] + statuses["acknowledged"] == expected["issued"]
    assert statuses["withdrawn"] == expected["withdrawn"]
    assert origins["reorientation"] == expected["reoriented"]
    assert origins["escalation"] == expected["escalated"]
    assert sum(1 for r in everything if r["status"] == "accepted" and r["sla_breached"]) == expected["late"]
    assert all(r["to_structure"] == COORDINATOR for r in everything if r["origin"] == "escalation")
    assert {r["to_structure"] for r in mission_locale} == {ML}
    assert len(mission_locale) == sum(1 for r in everything if r["to_structure"] == ML)

    # On the topic: every event once (the restart re-emitted nothing), one expiry per SLA breach.
    published = await referral_event_ids(kafka_bootstrap, topic_prefix + topics.REFERRAL)
    ids = [event_id for event_id, _ in published]
    assert len(ids) == len(set(ids))
    kinds = Counter(kind.rsplit(".", 1)[-1] for _, kind in published)
    assert kinds["issued"] == len(everything)
    assert kinds["expired"] == expected["expired"] + expected["late"]
    assert kinds["reminder_sent"] > 0
    assert "ariane_referral_expiries_total" in metrics
