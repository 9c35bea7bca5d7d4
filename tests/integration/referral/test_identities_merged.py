"""Two files of one person merged, on the real broker and a real database, with France Travail's answer under
the second file's id sent at the same time as the merge (two partitions: either may be read first).

Whichever comes first, France Travail reads one orientation for the person, accepted, under the kept id, also
when it asks with the merged id; the two due dates pass with no expiry and no re-orientation.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from contracts import topics
from contracts.clock import DayStarted
from contracts.people import (
    PersonIdentitiesMerged,
    PersonIdentitiesMergedData,
    PersonRegistered,
    PersonRegisteredData,
)
from contracts.referrals import ReferralAccepted, ReferralAcceptedData
from contracts.topics import key_for
from services.referral.app import definition
from services.referral.store import tables
from services.runtime.credentials import CredentialsBook
from tests.integration.referral.test_referral_month import referral_event_ids
from tests.support.kafka import admin_security
from tests.support.services import running_service
from tests.support.services import test_settings as service_settings

PARIS = ZoneInfo("Europe/Paris")
FT, CAP, PLIE, TRELAZE = "france_travail_angers_centre", "cap_emploi_49", "plie_angers", "mission_emploi_trelaze"
FIRST, SECOND = "p-merge-first", "p-merge-second"


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=PARIS)


def registered(person: str, by: str, day: date) -> PersonRegistered:
    return PersonRegistered(id=f"reg-{person}", source=by, subject=person, time=at(day), data=PersonRegisteredData(
        structure_id=by, registered_on=day, birth_year=1984, commune_insee="49007", qpv_resident=False, rqth=False,
        rsa=False, single_parent=False, education_level="3"))


async def test_an_answer_racing_the_merge_settles_the_one_orientation(kafka_bootstrap, topic_prefix, database_url,
                                                                       tmp_path):
    book = CredentialsBook(tmp_path / "credentials.json")
    ft = {"authorization": f"Bearer {book.issue('partner', FT).token}"}
    cap = {"authorization": f"Bearer {book.issue('partner', CAP).token}"}
    settings = service_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix,
                                credentials_file=book.path)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap),
                                enable_idempotence=True)
    await producer.start()
    produced = 0

    async def send(app, topic: str, *events) -> None:
        nonlocal produced
        for e in events:
            await (await producer.send(topic_prefix + topic, e.to_json_bytes(), key=key_for(e.subject)))
        produced += len(events)
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            async with app.state.ctx.session_factory() as session:
                done = (await session.execute(select(func.count()).select_from(tables.inbox))).scalar_one()
            if done >= produced:
                return
            assert asyncio.get_running_loop().time() < deadline, f"processed {done} of {produced}"
            await asyncio.sleep(0.05)

    try:
        async with running_service(definition(), settings) as (app, client):
            await send(app, topics.INTAKE, registered(FIRST, PLIE, date(2026, 3, 2)),
                       registered(SECOND, TRELAZE, date(2026, 3, 9)))
            rows = (await client.get("/v1/referrals", headers=ft)).json()
            second = next(r["referral_id"] for r in rows if r["person_id"] == SECOND)
            merge = PersonIdentitiesMerged(id="merge-1", source="ariane/intake", subject=FIRST,
                                           time=at(date(2026, 3, 12)), data=PersonIdentitiesMergedData(
                                               kept_person_id=FIRST, merged_person_id=SECOND, rule="manual"))
            answer = ReferralAccepted(id="acc-second", source=FT, subject=SECOND, time=at(date(2026, 3, 12)),
                                      data=ReferralAcceptedData(referral_id=second, structure_id=FT))
            await send(app, topics.INTAKE, merge, answer)
            # The days after each orientation's due date (17 and 24 March): an open one would expire there.
            for day in (date(2026, 3, 13), date(2026, 3, 18), date(2026, 3, 25)):
                await send(app, topics.CLOCK, DayStarted.for_day(day))

            asked = await client.get(f"/v1/people/{SECOND}/referrals", headers=ft)
            kept = await client.get(f"/v1/people/{FIRST}/referrals", headers=ft)
            not_theirs = await client.get(f"/v1/people/{FIRST}/referrals", headers=cap)
            listed = (await client.get("/v1/referrals", headers=ft)).json()
    finally:
        await producer.stop()

    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert (body["person_id"], body["asked_for"]) == (FIRST, SECOND)
    assert [(r["to_structure"], r["status"], r["sla_breached"]) for r in body["referrals"]] == [(FT, "accepted", False)]
    assert kept.json()["referrals"] == body["referrals"]
    assert not_theirs.status_code == 404  # Cap emploi was sent nothing about her
    assert [(r["person_id"], r["status"]) for r in listed] == [(FIRST, "accepted")]
    published = Counter(kind.rsplit(".", 1)[-1]
                        for _, kind in await referral_event_ids(kafka_bootstrap, topic_prefix + topics.REFERRAL))
    assert published["issued"] == 2  # one orientation per registration, before anyone knew
    assert published["expired"] == 0
