"""A minimal service on the real runtime, for crash tests: counts events per key and emits one per event.

Run as a process: `python counter_service.py` with ARIANE_* settings and COUNTER_PORT in the environment.
The count table is deliberately not keyed by event id: only the runtime's inbox stands between a redelivered
event and a double count, which is what the crash test must prove.
"""

from __future__ import annotations

import os

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, select

from contracts.envelope import Envelope
from services.runtime.errors import PermanentError
from services.runtime.service import ServiceContext, ServiceDefinition, Wiring, serve
from services.runtime.tables import runtime_tables
from services.runtime.unit_of_work import UnitOfWork

IN_TOPIC = "counter.in"
OUT_TOPIC = "counter.out"


class Base(SQLModel, registry=registry()):
    pass


class CountRow(Base, table=True):
    __tablename__ = "counter_count"
    key: str = Field(primary_key=True)
    count: int = 0


class AppliedRow(Base, table=True):
    __tablename__ = "counter_applied"
    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(index=True)  # not unique on purpose: duplicates must be visible


def parse(raw: bytes) -> Envelope:
    return Envelope.model_validate_json(raw)


async def handle(event: Envelope, uow: UnitOfWork) -> None:
    if event.data.get("poison"):
        raise PermanentError("this event asks to be refused")
    row = (await uow.session.exec(select(CountRow).where(CountRow.key == event.subject))).first()
    if row is None:
        row = CountRow(key=event.subject, count=0)
    row.count += 1
    uow.session.add(row)
    uow.session.add(AppliedRow(event_id=event.id))
    await uow.session.flush()
    out = Envelope(id=f"{event.id}:counted", source="ariane/counter", type="test.counted", subject=event.subject,
                   time=event.time, causationid=event.id,
                   data={"n": event.data.get("n"), **({"pad": event.data["pad"]} if event.data.get("pad") else {})})
    await uow.emit(out, OUT_TOPIC)


async def start(ctx: ServiceContext) -> Wiring[None]:
    return Wiring(deps=None, handler=handle)


DEFINITION = ServiceDefinition(
    name="counter", metadata=Base.metadata, tables=runtime_tables(Base.metadata, "counter"), versions_dir=None,
    start=start, consumes=(IN_TOPIC,), parse=parse, default_port=0,
)

if __name__ == "__main__":
    serve(DEFINITION, port=int(os.environ["COUNTER_PORT"]))


async def _sink_start(ctx: ServiceContext) -> Wiring[None]:
    async def swallow(event: Envelope, uow: UnitOfWork) -> None:
        return None  # the inbox row written by the runtime is the whole point

    return Wiring(deps=None, handler=swallow)


class SinkBase(SQLModel, registry=registry()):
    pass


# Reads what the counter's relay publishes in Kafka transactions.
SINK_DEFINITION = ServiceDefinition(
    name="sink", metadata=SinkBase.metadata, tables=runtime_tables(SinkBase.metadata, "sink"), versions_dir=None,
    start=_sink_start, consumes=(OUT_TOPIC,), parse=parse, default_port=0,
)
