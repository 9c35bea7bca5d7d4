"""What a consumed batch changes in followup's worklist lines, holds and ledger, written in one round.

A person's lines and holds are always rewritten whole, so within one transaction only the last rewrite of each
person counts, and the ledger's moves add up. Instead of a DELETE and an INSERT of lines and of holds and an
upsert of two counters per event, the handlers hand them to a `Writes` kept for the transaction, which sends
one DELETE of lines, one of holds, one INSERT of each and one upsert of the counters for everything gathered
(`write`). What it holds is gathered only where the transaction has no SAVEPOINT (handlers.py decides): a
SAVEPOINT rolled back must take its event's writes with it, so there each event writes its own at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.followup.domain import WorklistLine


@dataclass
class Writes:
    """The rewrites and ledger moves of a transaction not sent yet (the tables are given by the caller, so that
    this module does not import the one that defines them)."""

    lines: dict[str, list[dict]] = field(default_factory=dict)  # person id -> their lines' rows, whole
    holds: dict[str, list[dict]] = field(default_factory=dict)  # person id -> their holds' rows, whole
    stale: set[str] = field(default_factory=set)  # persons with rows in the store, to delete before inserting
    ledger: Counter[str] = field(default_factory=Counter)

    def replace(self, person_id: str, lines: list[WorklistLine], caseload: Sequence[tuple[str, str | None]],
                numbers: dict[str, str], *, first: bool) -> None:
        """The person's lines and holds become these. `first`: they have none in the store (created in this
        transaction and never written); otherwise what the store holds is deleted when this is written. A later
        rewrite of the same person before then replaces this one and keeps its `first`, since nothing of
        theirs has been written in between."""
        if person_id not in self.lines and not first:
            self.stale.add(person_id)
        self.lines[person_id] = [
            {"person_id": line.person_id, "structure_id": line.structure_id, "kind": line.kind.value,
             "reason": line.reason, "since": line.since, "urgency": line.urgency, "answer_id": line.answer_id,
             "expected": line.expected, "file_number": line.file_number} for line in lines]
        self.holds[person_id] = [{"person_id": person_id, "structure_id": structure, "counsellor": counsellor,
                                  "file_number": numbers.get(structure)} for structure, counsellor in caseload]

    def ledger_add(self, name: str | None, delta: int) -> None:
        if name is not None and delta:
            self.ledger[name] += delta

    def __bool__(self) -> bool:
        return bool(self.lines or self.ledger)

    def write(self, session: Session, actions, holds, ledger) -> None:  # noqa: ANN001 - the three tables
        """Send everything gathered, then forget it: at most five statements, whatever the number of persons.
        Synchronous, on the ORM session (run through AsyncSession.run_sync, or from a commit hook)."""
        if self.stale:
            stale = sorted(self.stale)
            session.execute(delete(actions).where(actions.c.person_id.in_(stale)))
            session.execute(delete(holds).where(holds.c.person_id.in_(stale)))
        line_rows = [row for person in sorted(self.lines) for row in self.lines[person]]
        hold_rows = [row for person in sorted(self.holds) for row in self.holds[person]]
        if line_rows:
            session.execute(insert(actions), line_rows)
        if hold_rows:
            session.execute(insert(holds), hold_rows)
        moves = sorted((name, n) for name, n in self.ledger.items() if n)  # in name order: writers never deadlock
        if moves:
            upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            statement = upsert(ledger).values([{"name": name, "count": n} for name, n in moves])
            session.execute(statement.on_conflict_do_update(
                index_elements=[ledger.c.name], set_={"count": ledger.c.count + statement.excluded.count}))
        self.lines.clear()
        self.holds.clear()
        self.stale.clear()
        self.ledger.clear()
