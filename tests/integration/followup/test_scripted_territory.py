"""A scripted territory on the real broker: after the clock passes the thresholds, exactly the expected people
are lost, with the expected reasons and structures, and the worklist shows them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "followup"))
from builders import (accepted, entered, exited, expired, issued, job_started, registered,  # noqa: E402
                      tick)
from conversation import until  # noqa: E402

from contracts import topics  # noqa: E402
from services.followup.app import definition  # noqa: E402
from services.followup.store import ClockRow, PersonRow  # noqa: E402
from services.runtime.credentials import CredentialsBook  # noqa: E402
from services.runtime.settings import RuntimeSettings  # noqa: E402
from tests.support.kafka import admin_security
from tests.support.services import running_service  # noqa: E402
from tests.support.services import test_settings as make_settings  # noqa: E402

async def test_scripted_territory(kafka_bootstrap, topic_prefix, database_url, tmp_path):
    book = CredentialsBook(tmp_path / "credentials.json")
    coordinator_token = book.issue("coordinator", "coordination_territoriale").token
    siae_token = book.issue("partner", "siae_regie_quartiers").token
    settings: RuntimeSettings = make_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                                              topic_prefix=topic_prefix, credentials_file=book.path)
    intake = [
        # A: oriented to the Mission locale, never picked up (the referral service says it expired on day 15).
        registered("A", 0), issued("A", 0, "ref-a"),
        # B: leaves an IAE dispositif on day 10 with no next step.
        registered("B", 0), entered("B", 1, "iae_regie", "siae_regie_quartiers"),
        exited("B", 10, "iae_regie", "siae_regie_quartiers"),
        # C: in a job (CDI) placed by the PLIE.
        registered("C", 0), job_started("C", 2, "job-c", "plie_angers", contract="cdi"),
        # D: leaves the PLIE on day 10 and enters the Cité de l'emploi on day 12: picked up in time.
        registered("D", 0), entered("D", 1, "plie_parcours", "plie_angers"),
        exited("D", 10, "plie_parcours", "plie_angers"), entered("D", 12, "cite_emploi_angers", "aldev_cite_emploi"),
        # E: oriented and accepted by the Mission locale: accompanied.
        registered("E", 0), issued("E", 0, "ref-e"), accepted("E", 3, "ref-e"),
    ]
    referral = [expired("A", 15, "ref-a", due_day=15)]
    async with running_service(definition(), settings) as (app, client):
        ctx = app.state.ctx
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap), enable_idempotence=True)
        await producer.start()
        try:
            for e in intake:
                await producer.send_and_wait(topic_prefix + topics.INTAKE, e.to_json_bytes(), key=e.subject.encode())
            for e in referral:
                await producer.send_and_wait(topic_prefix + topics.REFERRAL, e.to_json_bytes(),
                                             key=e.subject.encode())

            async def all_facts_in():
                async with ctx.session_factory() as s:
                    rows = (await s.execute(select(PersonRow))).scalars().all()
                    return sum(len(json.loads(r.facts)) for r in rows) == len(intake) + len(referral)

            await until(all_facts_in)
            for n in range(0, 47):
                t = tick(n)
                await producer.send_and_wait(topic_prefix + topics.CLOCK, t.to_json_bytes(), key=b"clock")

                async def ticked(day=t.data.day):
                    async with ctx.session_factory() as s:
                        row = await s.get(ClockRow, 1)
                        return row is not None and row.today == day

                await until(ticked)
        finally:
            await producer.stop()

        async with ctx.session_factory() as s:
            rows = {r.person_id: r for r in (await s.execute(select(PersonRow))).scalars().all()}
            lost = {(p, r.reason, r.structure_to_act, r.since.isoformat())
                    for p, r in rows.items() if r.state == "lost"}
            outbox_lost = (await s.execute(select(func.count()).select_from(ctx.tables.outbox).where(
                ctx.tables.outbox.c.event_type == "fr.ariane.person.lost"))).scalar_one()
        assert lost == {("A", "referral_expired", "mission_locale_angevine", "2026-01-20"),
                        ("B", "exit_without_next_step", "siae_regie_quartiers", "2026-01-15")}
        assert outbox_lost == 2
        assert {p: rows[p].state for p in "CDE"} == {"C": "in_employment", "D": "in_dispositif", "E": "accompanied"}

        # The coordinator sees both lost people first, most urgent first; the SIAE sees only its own.
        everyone = (await client.get("/v1/worklist", headers={"Authorization": f"Bearer {coordinator_token}"})).json()
        lost_items = [(i["person_id"], i["reason"], i["structure_id"]) for i in everyone["items"] if i["kind"] == "lost"]
        assert lost_items == [("B", "exit_without_next_step", "siae_regie_quartiers"),
                              ("A", "referral_expired", "mission_locale_angevine")]
        assert everyone["items"][0]["kind"] == "lost"
        own = (await client.get("/v1/worklist", headers={"Authorization": f"Bearer {siae_token}"})).json()
        assert {(i["person_id"], i["kind"]) for i in own["items"]} == {("B", "lost")}
        forbidden = await client.get("/v1/worklist?structure=plie_angers",
                                     headers={"Authorization": f"Bearer {siae_token}"})
        assert forbidden.status_code == 403
        assert (await client.get("/v1/worklist")).status_code == 401
        csv_text = (await client.get("/v1/worklist?format=csv",
                                     headers={"Authorization": f"Bearer {siae_token}"})).text
        assert csv_text.splitlines()[0] == ("person_id,structure_id,file_number,kind,answer_id,reason,expected,since,days,"
                                          "timeline_url")
        assert csv_text.splitlines()[1].startswith("B,siae_regie_quartiers,,lost,,exit_without_next_step,")

        ledger = (await client.get("/v1/ledger")).json()
        assert ledger["balanced"] is True and ledger["registered"] == 5 and sum(ledger["counts"].values()) == 5
        metrics = (await client.get("/metrics")).text
        assert 'ariane_followup_lost_total{reason="referral_expired",structure="mission_locale_angevine"} 1.0' in metrics
