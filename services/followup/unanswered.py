"""The shell around domain/unknown_facts.py: keep the record an answer came in while it waits for its fact, and
report the answers dropped after their wait to their senders on the dead-letter topic."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from contracts.envelope import Envelope
from services.followup.domain.unknown_facts import Dropped
from services.runtime.deadletter import DeadLetter
from services.runtime.unit_of_work import UnitOfWork

log = structlog.get_logger("ariane.followup")


async def record_of(uow: UnitOfWork, event: Envelope) -> dict[str, Any]:
    """Where the event was consumed (its inbox mark) and its bytes, so that its dead letter, if it comes to that,
    is the letter of that record (one letter per record) and tells its sender which event it was."""
    inbox = uow.tables.inbox
    where = (await uow.session.exec(select(inbox.c.topic, inbox.c.partition, inbox.c.offset)
                                    .where(inbox.c.event_id == event.id))).first()
    topic, partition, offset = where if where is not None else (f"unrecorded:{event.id}", -1, -1)
    return {"topic": topic, "partition": partition, "offset": offset, "sender": event.source,
            "original": event.to_json_bytes().decode("utf-8")}


async def report(uow: UnitOfWork, person_id: str, dropped: Dropped) -> None:
    """The sender learns it from the dead-letter topic, keyed by the person (pseudonymous), like every record of
    the topics the answer came from; an erased person's record has no original any more: the reason alone."""
    r = dropped.record
    letter = DeadLetter("followup", dropped.reason, str(r.get("topic") or f"unrecorded:{dropped.fact_id}"),
                        int(r.get("partition", -1)), int(r.get("offset", -1)), person_id,
                        str(r.get("original") or "").encode("utf-8"))
    await uow.dead_letter(letter)
    log.warning("answer_dead_lettered", reason=dropped.code, answer=dropped.fact_id)
