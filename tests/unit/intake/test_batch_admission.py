"""A partner's events admitted together, as intake takes them: a batch read from its topic, or HTTP requests
waiting at the same moment. Each event gets the verdict it gets alone (a registration and the next event
about that person in the same batch, the same event twice, an id reused, a refused event and its correction),
the batch's lookups are read in one round rather than once per event, and a request that fails in a group
fails alone and is counted once with the others."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import event as sa_event
from sqlalchemy import select

from contracts import topics
from services.intake.app import definition
from services.intake.settings import IntakeSettings
from services.runtime.db import make_engine, make_session_factory
from services.runtime.metrics import RuntimeMetrics
from services.runtime.migrate import upgrade_to_head
from services.runtime.processor import EventProcessor
from services.runtime.records import Record
from services.runtime.settings import RuntimeSettings
from tests.support.turns import OtherWork

ML = "mission_locale_angevine"


def _letters(n: int) -> str:
    return "".join("abcdefghij"[int(d)] for d in str(n))


def run_tag() -> str:
    """Eight random letters that keep this run's ids apart from other runs'. Letters only: random hex digits next
    to a person's number in a correlation id once made ten digits starting with 0, a phone number to the personal
    data firewall, and every event of that run was refused."""
    return uuid.uuid4().hex[:8].translate(str.maketrans("0123456789", "ghijklmnop"))


def registration(event_id: str, ref: str, tail: str, *, identity: bool = True, **data_over: Any) -> dict:
    """`tail` (a number) makes the person: their name and birth day."""
    data: dict[str, Any] = {
        "structure_id": ML, "registered_on": "2026-02-03", "birth_year": 2004, "commune_insee": "49007",
        "qpv_resident": True, "rqth": False, "rsa": False, "single_parent": False, "education_level": "4",
        "partner_ref": ref}
    if identity:
        data["identity"] = {"last_name": f"Nom{_letters(int(tail))}", "first_names": "Camille",
                            "birth_date": f"2004-05-{int(tail) % 28 + 1:02d}"}
    data.update(data_over)
    return {"specversion": "1.0", "id": event_id, "source": ML, "type": "fr.ariane.person.registered",
            "subject": ref, "time": "2026-02-03T14:05:00+01:00", "correlationid": f"corr-{event_id}-{tail}",
            "data": data}


@dataclass
class Intake:
    ctx: Any
    wiring: Any
    service: Any
    selects_of_events: list[int]

    async def outbox(self) -> tuple[list[dict], list[dict]]:
        """What intake queued for publication, and its dead letters."""
        table = self.service.tables.outbox
        async with self.ctx.session_factory() as session:
            rows = (await session.execute(select(table.c.event_type, table.c.payload).order_by(table.c.id))).all()
        published = [json.loads(p) for t, p in rows if t != "deadletter"]
        letters = [json.loads(p) for t, p in rows if t == "deadletter"]
        return published, letters

    def counted(self, outcome: str) -> float:
        return sum(s.value for m in self.ctx.registry.collect() for s in m.samples
                   if s.name == "ariane_intake_events_total" and s.labels.get("outcome") == outcome)


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[Intake]:
    settings = IntakeSettings(territory_secret="territory-secret-for-tests-0123456789",
                              master_key="master-key-for-tests-0123456789")
    service = definition(settings)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}")
    selects: list[int] = [0]

    @sa_event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "FROM intake_event" in sql:
            selects[0] += 1

    try:
        await upgrade_to_head(engine, "intake", service.metadata, service.versions_dir)
        factory = make_session_factory(engine)
        ctx = SimpleNamespace(registry=CollectorRegistry(), session_factory=factory, engine=engine, name="intake",
                              settings=RuntimeSettings(var_dir=tmp_path), read_session_factory=factory,
                              tables=service.tables)
        wiring = await service.start(ctx)
        selects[0] = 0
        yield Intake(ctx, wiring, service, selects)
    finally:
        await engine.dispose()


async def consume(intake: Intake, events: list[dict]) -> None:
    """One consumed batch of the partner's topic, in the order sent."""
    processor = EventProcessor("intake", intake.ctx.session_factory, intake.service.tables, intake.wiring.handler,
                               RuntimeMetrics.create("intake", intake.ctx.registry), intake.ctx.settings,
                               parsers=intake.service.parsers, redact=intake.service.redact)
    await processor.process_batch([Record(topics.inbound_topic(ML), 0, n, None, json.dumps(e).encode())
                                   for n, e in enumerate(events)])


async def test_one_batch_gives_each_event_its_own_verdict_and_looks_events_up_once(intake: Intake) -> None:
    u = run_tag()
    first = registration(f"reg-{u}", f"R1-{u}", "1")
    again_by_ref = registration(f"again-{u}", f"R1-{u}", "1", identity=False)  # the person registered just before
    reused = registration(f"reg-{u}", f"R2-{u}", "2")  # the first one's id, other content
    refused = registration(f"fixed-{u}", f"R3-{u}", "3", registered_on="9999-12-31")
    corrected = registration(f"fixed-{u}", f"R3-{u}", "3")
    others = [registration(f"other-{n}-{u}", f"O{n}-{u}", str(10 + n)) for n in range(40)]
    await consume(intake, [first, again_by_ref, first, reused, refused, corrected, *others])

    published, letters = await intake.outbox()
    registered = [e for e in published if e["type"] == "fr.ariane.person.registered"]
    by_corr = {e["correlationid"]: e for e in registered}
    # The first registration and the one naming its file number are the same person; the repeat is a duplicate.
    assert by_corr[first["correlationid"]]["subject"] == by_corr[again_by_ref["correlationid"]]["subject"]
    assert [e["correlationid"] for e in registered].count(first["correlationid"]) == 1
    # The reused id is a conflict, the implausible event refused, and its corrected event accepted under its id.
    assert sorted(letter["reason"].split(":", 1)[0] for letter in letters) == ["id_conflict", "implausible_event"]
    assert corrected["correlationid"] in by_corr and reused["correlationid"] not in by_corr
    assert len(registered) == 2 + 1 + len(others)
    # The batch's (source, id) and published ids are read in one round each, not once per event.
    assert intake.selects_of_events[0] <= 4


def three_good_and_one_the_store_fails_on(monkeypatch: pytest.MonkeyPatch, tag: str) -> tuple[list[dict], dict]:
    """Three registrations, and a fourth that the store fails to record (a bug, a failing disk: not a refusal)."""
    from services.intake.store import events as stored_events

    u = run_tag()
    good = [registration(f"{tag}good-{n}-{u}", f"{tag}G{n}-{u}", str(n + 1)) for n in range(3)]
    broken = registration(f"{tag}broken-{u}", f"{tag}B-{u}", "7")
    record = stored_events.record

    async def failing_record(session, **row):  # noqa: ANN001, ANN003, ANN202 - the store fails for this event only
        if row["event_id"] == broken["id"]:
            raise RuntimeError("the store failed on this event")
        await record(session, **row)

    monkeypatch.setattr(stored_events, "record", failing_record)
    return good, broken


async def test_a_request_that_fails_in_a_group_fails_alone_and_the_group_is_counted_once(
        intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.intake.api import admissions as admissions_module

    good, broken = three_good_and_one_the_store_fails_on(monkeypatch, "")
    admissions = admissions_module.Admissions(intake.ctx, intake.wiring.deps)
    answers = await asyncio.gather(*(admissions.admit([body]) for body in (good[0], broken, good[1], good[2])),
                                   return_exceptions=True)

    assert isinstance(answers[1], RuntimeError)
    assert [a.verdicts[0].status for i, a in enumerate(answers) if i != 1] == ["accepted"] * 3
    assert all(a.outbox_ids for i, a in enumerate(answers) if i != 1)  # each request waits for its own rows
    published, _letters = await intake.outbox()
    assert sorted(e["correlationid"] for e in published if e["type"] == "fr.ariane.person.registered") == \
        sorted(e["correlationid"] for e in good)
    # Admitted twice (at once, then each request alone after the failure), counted once.
    assert intake.counted("accepted") == 3


async def test_a_batch_read_from_a_partner_topic_and_applied_again_is_counted_once(
        intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    good, broken = three_good_and_one_the_store_fails_on(monkeypatch, "K")
    await consume(intake, [good[0], broken, good[1], good[2]])  # applied in one go, rolled back, then isolated

    published, letters = await intake.outbox()
    assert sorted(e["correlationid"] for e in published if e["type"] == "fr.ariane.person.registered") == \
        sorted(e["correlationid"] for e in good)
    assert len(letters) == 1
    # Before, the first pass had counted the first event already: 4 accepted for 3.
    assert intake.counted("accepted") == 3


def someone_new(n: int, u: str) -> dict:
    """A registration of a person like no other of the group: own names, own birth day."""
    body = registration(f"new-{n}-{u}", f"N{n}-{u}", str(n))
    body["data"]["identity"] = {"last_name": f"Nom{_letters(n)}", "first_names": f"Prenom{_letters(n + 7)}",
                                "birth_date": (date(2004, 1, 1) + timedelta(days=n)).isoformat()}
    return body


async def test_a_group_of_new_people_lets_the_rest_of_the_process_run_while_it_is_admitted(
        intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    """A group's look-ups are read before and its rows written after its events are admitted, so admitting new
    people awaits nothing: /health, /metrics and the relay must still get turns meanwhile."""
    from services.intake.api import admissions as admissions_module

    admitted = [0]
    plain_admit = admissions_module.admit

    async def counted_admit(*args: Any, **kwargs: Any) -> Any:
        admitted[0] += 1
        return await plain_admit(*args, **kwargs)

    monkeypatch.setattr(admissions_module, "admit", counted_admit)
    u = run_tag()
    bodies = [someone_new(n, u) for n in range(300)]
    admissions = admissions_module.Admissions(intake.ctx, intake.wiring.deps)
    async with OtherWork(note=lambda: admitted[0]) as other:  # notes how many events were admitted at each turn
        answers = await asyncio.gather(*(admissions.admit([body]) for body in bodies))

    assert [a.verdicts[0].status for a in answers] == ["accepted"] * len(bodies)
    # Between two turns of the rest, the events of about 10 ms of work, never most of the group.
    admitted_between_turns = [b - a for a, b in zip(other.noted, other.noted[1:])]
    assert max(admitted_between_turns) < len(bodies) // 3, max(admitted_between_turns)
