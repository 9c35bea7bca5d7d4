"""A transaction's people: read in one query for a consumed batch, written in one round once its events are done.

A person's state is one row (the domain state as JSON) and their referrals are rows rewritten whole with it, so
within one transaction only the last state of each person counts. Instead of a SELECT, an UPDATE (or INSERT),
a DELETE of the referral rows and an INSERT of them per event, the handlers read everyone a batch is about at
once (`read`), keep each state in a `People` for the transaction, and hand their new states to it; `write`
sends them: one INSERT of the persons first heard of, one UPDATE of the others, one DELETE of the referral rows
they had and one INSERT of their referral rows, whatever the number of persons. When to write is the handlers'
choice (handlers.py): a SAVEPOINT rolled back must take its event's writes with it, so inside one each event
writes its own at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.territory import ReferralSla
from services.referral.domain.lifecycle import PersonState, next_checks
from services.referral.store.rows import PersonRow, ReferralRow

# Ids per statement: well under the bound parameters SQLite (32,766) and asyncpg (32,767) take in one statement.
_CHUNK = 2000
_PERSON, _REFERRAL = PersonRow.__table__, ReferralRow.__table__


@dataclass
class People:
    """The states read or decided in this transaction, by person id, and those not written yet."""

    states: dict[str, PersonState | None] = field(default_factory=dict)  # None: no row in the store
    stored: set[str] = field(default_factory=set)  # ids with a row in the store (and so their referral rows)
    pending: dict[str, PersonState] = field(default_factory=dict)  # to write, the last state of each

    def get(self, person_id: str) -> PersonState:
        """A person read before (`read`): their state, a blank one if the store has never heard of them."""
        state = self.states[person_id]
        return state if state is not None else PersonState(person_id=person_id)

    def put(self, state: PersonState) -> None:
        self.states[state.person_id] = state
        self.pending[state.person_id] = state

    def __bool__(self) -> bool:
        return bool(self.pending)


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


async def read(session: AsyncSession, people: People, person_ids: Iterable[str]) -> None:
    """Read into `people` those of these ids it does not hold yet, in one query (per 2,000 ids). On PostgreSQL
    their rows are locked until commit, in id order (with several instances, a tick and a fact about one person
    may be decided at once: the second waits for the first and decides on its result; in id order, two
    transactions never wait for each other in a circle). Columns, not ORM objects: the session holds no copy
    that `write` would leave stale."""
    wanted = sorted({i for i in person_ids if i not in people.states})
    lock = session.get_bind().dialect.name != "sqlite"  # SQLite's transactions begin IMMEDIATE: one writer
    for ids in _chunks(wanted):
        query = select(PersonRow.person_id, PersonRow.state).where(PersonRow.person_id.in_(ids))
        if lock:
            query = query.order_by(PersonRow.person_id).with_for_update()
        found = {pid: state for pid, state in (await session.execute(query)).all()}
        for pid in ids:
            people.states[pid] = PersonState.model_validate_json(found[pid]) if pid in found else None
        people.stored.update(found)


async def write(session: AsyncSession, people: People, sla: ReferralSla) -> None:
    """Send the states not written yet, with their referral rows, and forget them (they stay read)."""
    if not people.pending:
        return
    states = [people.pending[pid] for pid in sorted(people.pending)]  # in id order, as they were locked
    first = [s for s in states if s.person_id not in people.stored]
    known = [s for s in states if s.person_id in people.stored]
    if first:
        await session.execute(insert(_PERSON), [{"person_id": s.person_id, "state": s.model_dump_json()}
                                                for s in first])
    if known:
        await session.execute(
            update(_PERSON).where(_PERSON.c.person_id == bindparam("b_person_id"))
            .values(state=bindparam("b_state")),
            [{"b_person_id": s.person_id, "b_state": s.model_dump_json()} for s in known])
        for ids in _chunks([s.person_id for s in known]):
            await session.execute(delete(_REFERRAL).where(_REFERRAL.c.person_id.in_(ids)))
    rows = [row for s in states for row in _referral_rows(s, sla)]
    if rows:
        await session.execute(insert(_REFERRAL), rows)
    people.stored.update(people.pending)
    people.pending.clear()


def _referral_rows(state: PersonState, sla: ReferralSla) -> list[dict]:
    checks = next_checks(state, sla)
    return [{"person_id": state.person_id, "referral_id": r.referral_id, "kind": r.kind.value,
             "origin": r.origin.value, "rule": r.rule, "from_structure": r.from_structure,
             "to_structure": r.to_structure, "status": r.status.value, "issued_on": r.issued_on,
             "acknowledge_due": r.acknowledge_due, "accept_due": r.accept_due, "appointment_due": r.appointment_due,
             "acknowledged_on": r.acknowledged_on, "accepted_on": r.accepted_on, "refused_on": r.refused_on,
             "refusal_reason": r.refusal_reason.value if r.refusal_reason else None, "expired_on": r.expired_on,
             "closed_on": r.closed_on, "sla_breached": r.sla_breached, "next_check_on": checks[r.referral_id]}
            for r in state.referrals.values()]
