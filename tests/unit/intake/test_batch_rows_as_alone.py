"""A batch admitted in one go leaves the store exactly as its events admitted one by one would.

Intake writes a batch's rows at its end (the accepted events, the grants, the vault's rows): the same partner
stream and the same referrals, sent to three fresh stores (one consumed batch; each record alone; one batch
whose failing record makes the consumer apply it again with a SAVEPOINT per record) and over HTTP (one group
of requests), must leave the same people, match keys, file numbers, reviews, grants, closures and accepted
events, and queue the same events, with the same ids, in the same order.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from contracts import topics
from contracts.referrals import ReferralIssued, ReferralIssuedData
from services.intake.app import definition
from services.intake.handlers import HANDLERS
from services.intake.settings import IntakeSettings
from services.runtime.db import make_engine, make_session_factory
from services.runtime.metrics import RuntimeMetrics
from services.runtime.migrate import upgrade_to_head
from services.runtime.processor import EventProcessor
from services.runtime.records import Record
from services.runtime.routing import route
from services.runtime.settings import RuntimeSettings

ML = "mission_locale_angevine"
PLIE = "plie_angers_loire_metropole"
NOW = datetime(2026, 2, 4, 9, 0, tzinfo=timezone.utc)  # intake's clock, the same for every store
TABLES = ("intake_person", "intake_match_key", "intake_partner_ref", "intake_review", "intake_entitlement",
          "intake_closure", "intake_event")
LEFT_OUT = {"wrapped_key", "identity", "created_at", "accepted_at"}  # fresh keys and nonces, the database's clock


def registration(event_id: str, ref: str, identity: dict[str, str] | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "structure_id": ML, "registered_on": "2026-02-03", "birth_year": 1990, "commune_insee": "49007",
        "qpv_resident": False, "rqth": False, "rsa": False, "single_parent": False, "education_level": "4",
        "partner_ref": ref}
    if identity is not None:
        data["identity"] = identity
    return {"specversion": "1.0", "id": event_id, "source": ML, "type": "fr.ariane.person.registered",
            "subject": ref, "time": "2026-02-03T14:05:00+01:00", "correlationid": f"corr-{event_id}", "data": data}


LEA = {"last_name": "Martin", "first_names": "Léa", "birth_date": "1990-01-01"}
LEA_BY_NIR = {"nir": "290017503312345", "first_names": "Léa", "email": "lea.m@example.org"}
SAM = {"last_name": "Dupont", "first_names": "Samuel", "birth_date": "1991-06-12"}
SAM_LOOKALIKE = {"last_name": "Dupond", "first_names": "Samuel", "birth_date": "1991-06-12"}  # a review


def partner_stream() -> list[dict[str, Any]]:
    """Registrations that find each other within the stream (by file number, by names, by a NIR that proves two
    people are one), a near-duplicate, a repeat, a reused id, a refused event and its correction."""
    lea = registration("reg-1", "ML-1", LEA)
    refused = registration("reg-6", "ML-6", {"last_name": "Nour", "first_names": "Ines",
                                                "birth_date": "1993-03-03"})
    refused["data"]["registered_on"] = "9999-12-31"
    corrected = registration("reg-6", "ML-6", {"last_name": "Nour", "first_names": "Ines",
                                                  "birth_date": "1993-03-03"})
    return [lea, registration("reg-2", "ML-2", SAM), registration("again-1", "ML-1", None),
            registration("reg-3", "ML-3", LEA_BY_NIR), lea,
            registration("reg-2", "ML-4", SAM_LOOKALIKE),  # the id of Samuel's registration, other content
            registration("reg-4", "ML-4", SAM_LOOKALIKE),
            registration("reg-5", "ML-5", {**LEA, "nir": LEA_BY_NIR["nir"]}),  # Léa and Léa by NIR: one
            refused, corrected, *[registration(f"reg-x{n}", f"ML-x{n}", {"last_name": f"Nom{'abcdefghij'[n]}x",
                                                                       "first_names": "Alex",
                                                                       "birth_date": f"1995-02-{n + 1:02d}"})
                                  for n in range(8)]]


def referral(person: str, n: int) -> dict[str, Any]:
    day = date(2026, 2, 4)
    return json.loads(ReferralIssued(
        id=f"iss-{n}", source=PLIE, subject=person, time=datetime(2026, 2, 4, 10, n, tzinfo=timezone.utc),
        data=ReferralIssuedData(referral_id=f"ref-{n}", kind="prescription", from_structure=PLIE, to_structure=ML,
                                reason="prescription", due_date=day + timedelta(days=15))).to_json_bytes())


class Store:
    def __init__(self, tmp_path: Path, make_url: Callable[[str], Awaitable[str]], name: str) -> None:
        self.tmp_path, self.make_url, self.name = tmp_path, make_url, name

    async def __aenter__(self) -> Store:
        settings = IntakeSettings(territory_secret="territory-secret-for-tests-0123456789",
                                  master_key="master-key-for-tests-0123456789")
        self.service = definition(settings)
        self.engine = make_engine(await self.make_url(self.name.replace("-", "_")))  # SQLite, or PostgreSQL if set
        await upgrade_to_head(self.engine, "intake", self.service.metadata, self.service.versions_dir)
        factory = make_session_factory(self.engine)
        self.ctx = SimpleNamespace(registry=CollectorRegistry(), session_factory=factory, engine=self.engine,
                                   name="intake", settings=RuntimeSettings(var_dir=self.tmp_path),
                                   read_session_factory=factory, tables=self.service.tables)
        wiring = await self.service.start(self.ctx)
        self.deps = replace(wiring.deps, clock=lambda: NOW)
        self.processor = EventProcessor("intake", factory, self.service.tables, route(HANDLERS, self.deps),
                                        RuntimeMetrics.create("intake", self.ctx.registry), self.ctx.settings,
                                        parsers=self.service.parsers, redact=self.service.redact)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.engine.dispose()

    async def rows(self) -> dict[str, Any]:
        """Every row of intake's own tables (but fresh keys and clock times), and the outbox in its order."""
        found: dict[str, Any] = {}
        async with self.ctx.session_factory() as session:
            for name in TABLES:
                table = self.service.metadata.tables[name]
                columns = [c for c in table.c if c.name not in LEFT_OUT]
                found[name] = sorted(tuple(r) for r in (await session.execute(select(*columns))).all())
            outbox = self.service.tables.outbox
            found["outbox"] = [(r.topic, r.key, r.event_id, r.event_type, json.loads(r.payload)) for r in (
                await session.execute(select(outbox).order_by(outbox.c.id))).all()]
            identities = {}
            for (person_id, *_rest) in found["intake_person"]:
                identities[person_id] = await self.deps.resolver.identity_of(session, person_id)
            found["identities"] = identities
        return found


def records(stream: list[dict[str, Any]], asked: list[dict[str, Any]], start: int = 0) -> list[Record]:
    return [*(Record(topics.inbound_topic(ML), 0, start + n, None, json.dumps(e).encode())
              for n, e in enumerate(stream)),
            *(Record(topics.REFERRAL, 0, start + n, None, json.dumps(e).encode()) for n, e in enumerate(asked))]


@pytest.fixture
def store(tmp_path: Path, database_url_factory: Callable[[str], Awaitable[str]]) -> Callable[[str], Store]:
    """A fresh intake store of its own by name (SQLite, or PostgreSQL when the suite is given one)."""
    return lambda name: Store(tmp_path, database_url_factory, name)


async def test_a_batch_leaves_the_rows_and_events_its_records_leave_alone(
        store: Callable[[str], Store], monkeypatch: pytest.MonkeyPatch) -> None:
    stream = partner_stream()
    # Referrals about people registered in the same batch, about one registered before, and about a stranger.
    first = records(stream[:2], [])
    async with store("probe") as probe:
        await probe.processor.process_batch(first + records(stream[2:], [], start=2))
        people = sorted((await probe.rows())["identities"])
    asked = [referral(person, n) for n, person in enumerate([*people, "p_" + "0" * 32])]
    batch = records(stream[2:], asked, start=2)

    async with store("together") as together:
        await together.processor.process_batch(first)
        await together.processor.process_batch(batch)
        expected = await together.rows()
    async with store("alone") as alone:
        for record in [*first, *batch]:
            await alone.processor.process_batch([record])
        assert await alone.rows() == expected

    # The people the stream is about: Léa (three registrations, one proving her NIR: one person, the other
    # folded into her), Samuel and his look-alike under review, Ines once corrected, eight others.
    assert len([r for r in expected["intake_person"] if r[2] is None]) == 1 + 2 + 1 + 8
    assert len(expected["intake_review"]) == 1
    assert sorted(e[4]["reason"].split(":", 1)[0] for e in expected["outbox"]
                  if e[3] == "deadletter") == ["id_conflict", "implausible_event"]
    assert {(r[1], r[2]) for r in expected["intake_entitlement"]} == {(ML, "registered"), (ML, "asked_to_act")}

    # A record the store fails on: the batch is applied again, each record in its SAVEPOINT; the others leave
    # what they leave in one go.
    from services.intake.store import events as stored_events

    record_event = stored_events.record

    async def failing_record(session, **row):  # noqa: ANN001, ANN003, ANN202 - the store fails on this one
        if row["event_id"] == "reg-9":
            raise RuntimeError("the store failed on this event")
        await record_event(session, **row)

    monkeypatch.setattr(stored_events, "record", failing_record)
    broken = records([registration("reg-9", "ML-9", {**SAM, "first_names": "Zoe"})], [], start=len(stream))
    async with store("isolated") as isolated:
        await isolated.processor.process_batch(first)
        await isolated.processor.process_batch(batch + broken)
        found = await isolated.rows()
    letters = [e for e in found["outbox"] if e[3] == "deadletter" and "RuntimeError" in e[4]["reason"]]
    assert len(letters) == 1
    assert {**found, "outbox": [e for e in found["outbox"] if e not in letters]} == expected
    monkeypatch.undo()

    # Over HTTP, one group of requests: what the partner's events leave is what they leave from the topic.
    from services.intake.api.admissions import Admissions

    async with store("http") as http, store("partner-alone") as reference:
        for record in records(stream, []):
            await reference.processor.process_batch([record])
        admissions = Admissions(http.ctx, http.deps)  # type: ignore[arg-type]
        await asyncio.gather(*(admissions.admit([body]) for body in stream[:2]))
        await asyncio.gather(*(admissions.admit([body]) for body in stream[2:]))  # one group: none waits alone
        by_http, by_topic = await http.rows(), await reference.rows()
    by_topic["outbox"] = [e for e in by_topic["outbox"] if e[3] != "deadletter"]
    assert by_http == by_topic
