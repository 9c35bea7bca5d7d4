"""Erased mid-year, then the auditor replays: nothing of the person comes back, and the figures stay true.

Cap emploi registers Lina (its file CAP-…) and prescribes the Mission locale; the Mission locale registers
Noah (its file ML-…), who stays. The coordinator erases Lina by Cap emploi's file number. The coordinator's
report is the same as before the erasure (it counts pseudonymous facts: one referral issued, two people), the
auditor's replay of the topics into a fresh store gives the same digest, and neither the replayed report nor
the archive of the log the auditor exports afterwards holds her identity (names, NIR, birth date, e-mail,
phone) or her file number. Lina's pseudonymous facts and Noah stay. No file number is on the log at all
(intake keeps them to itself, intake's README "The file number on Kafka after an erasure"), so neither Lina's
nor Noah's is in the archive; the export still applies the person.erased it finds to older logs that carry one.
"""

from __future__ import annotations

import asyncio
import gzip
import uuid
from contextlib import AsyncExitStack

from identity_scenes import CAP, LINA, ML, NOAH_ML, Keys, bearer, of_type, prescription, wait_for_events
from intake_harness import RunningIntake, intake_settings, registration
from sqlalchemy import select

from contracts.territory import load_territory
from services.intake.app import definition as intake_definition
from services.reporting.app import CONSUMES
from services.reporting.app import definition as reporting_definition
from services.reporting.store import tables as reporting_tables
from cli.commands.reporting import export_archive
from services.reporting.store.archive import read_archive
from services.reporting.store.replay import read_log, replay
from services.runtime.credentials import CredentialsBook
from tests.support.services import running_service, test_settings


def _traces(identity: dict[str, str]) -> list[str]:
    """How an identity could show in a log: each value as sent, and the NIR without its spaces."""
    return [*identity.values(), identity["nir"].replace(" ", "")]


async def _batches(archive):  # noqa: ANN001, ANN202 - the archive's records in one batch, as the replay reads them
    yield [record for _topic, record in read_archive(archive)]


async def test_after_an_erasure_the_replay_and_the_archive_bring_back_no_identity(kafka_bootstrap, topic_prefix,
                                                                                  database_url_factory, tmp_path):
    book = CredentialsBook(tmp_path / "credentials.json")
    territory = load_territory().id
    async with AsyncExitStack() as stack:
        apps, http = {}, {}
        for name, defn in (("intake", intake_definition(intake_settings())), ("reporting", reporting_definition())):
            settings = test_settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix,
                                     database_url=await database_url_factory(name), credentials_file=book.path)
            apps[name], http[name] = await stack.enter_async_context(running_service(defn, settings))
        intake = RunningIntake(apps["intake"].state.ctx, http["intake"], topic_prefix, kafka_bootstrap, book)
        keys = Keys(intake)
        cap, ml, coordinator = await keys.partner(CAP), await keys.partner(ML), keys.coordinator()
        auditor = bearer(book.issue("auditor", territory).token)
        cap_file, ml_file = f"CAP-{uuid.uuid4().hex[:6]}", f"ML-{uuid.uuid4().hex[:6]}"

        lina = (await intake.post(registration(CAP, ref=cap_file, identity=LINA), cap)).json()["results"][0]
        assert lina["status"] == "accepted", lina
        assert (await intake.post(prescription(CAP, lina["person_id"], ML), cap)).status_code == 202
        noah = (await intake.post(registration(ML, ref=ml_file, identity=NOAH_ML), ml)).json()["results"][0]
        assert noah["status"] == "accepted", noah

        async def folded(event_ids: set[str]) -> None:
            """Reporting has consumed these events (they are in its inbox)."""
            deadline = asyncio.get_running_loop().time() + 60
            while True:
                async with apps["reporting"].state.ctx.engine.connect() as conn:
                    seen = set((await conn.execute(select(reporting_tables.inbox.c.event_id).where(
                        reporting_tables.inbox.c.event_id.in_(sorted(event_ids))))).scalars())
                if seen == event_ids:
                    return
                assert asyncio.get_running_loop().time() < deadline, f"reporting saw {len(seen)}/{len(event_ids)}"
                await asyncio.sleep(0.2)

        published = await wait_for_events(intake, lambda evs: len(evs) >= 3)
        await folded({e["id"] for e in published})
        before = (await http["reporting"].get("/v1/report", headers=auditor)).json()
        before_digest = (await http["reporting"].get("/v1/report/digest", headers=auditor)).json()["digest"]
        assert sum(row["issued"] for row in before["flows"]) == 1

        erased = await http["intake"].post("/v1/erasures", headers=bearer(coordinator), json={
            "structure_id": CAP, "file_number": cap_file, "reason": "person_request"})
        assert erased.status_code == 200 and erased.json()["status"] == "erased", erased.text
        events = await wait_for_events(intake, lambda evs: len(of_type(evs, "person.erased")) == 1)
        await folded({e["id"] for e in events})

        # The live report: the same figures, and the same digest, as before the erasure.
        after = (await http["reporting"].get("/v1/report", headers=auditor)).json()
        assert after == before
        live = (await http["reporting"].get("/v1/report/digest", headers=auditor)).json()["digest"]
        assert live == before_digest

        # The auditor replays the topics into a fresh store: the same digest, and nothing of Lina in the report.
        physical = [topic_prefix + t for t in CONSUMES]
        result = await replay(read_log(kafka_bootstrap, physical), database_url=await database_url_factory("replay"),
                              territory=territory)
        assert result.digest == live
        replayed = result.report.model_dump_json()
        assert [t for t in _traces(LINA) + [cap_file] if t in replayed] == []

        # The exported archive of the log: no identity anywhere.
        archive = tmp_path / "log.jsonl.gz"
        records = [(r.topic.removeprefix(topic_prefix), r) async for batch in read_log(kafka_bootstrap, physical)
                   for r in batch]
        count, _ = export_archive(archive, records)  # as `ariane reporting export-log` writes it
        assert count == result.records
        with gzip.open(archive, "rb") as src:
            text = src.read().decode("utf-8")
        # Each record's key and value as the auditor reads them back (values are base64 in the file).
        text += "\n".join(f"{record.key_text} {record.value.decode('utf-8', 'replace')}"
                          for _topic, record in read_archive(archive))
        assert lina["person_id"] in text and noah["person_id"] in text  # her pseudonymous facts stay, and Noah
        assert [t for t in _traces(LINA) + [cap_file, ml_file] if t in text] == []
        # Replayed from that archive, the figures are still the live ones.
        from_archive = await replay(_batches(archive), database_url=await database_url_factory("from-archive"),
                                    territory=territory)
        assert from_archive.digest == live
