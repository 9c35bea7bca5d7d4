"""One disclosure: the identity.disclosed event and the audit row, in the caller's transaction.

Whoever shows an identity calls `disclose` inside the transaction that reads it and answers only after that
transaction commits (and counts it, `IntakeMetrics.disclosures`, once committed): no identity leaves intake without its event in the outbox and its row in the audit list.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from contracts import topics
from contracts.identity import DisclosureBasis, IdentityDisclosed
from services.intake.domain import disclosure
from services.intake.domain.disclosure import Caller
from services.intake.store import disclosures
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.intake.app import IntakeDeps


async def disclose(uow: UnitOfWork, deps: IntakeDeps, caller: Caller, person_id: str, basis: DisclosureBasis,
                   reason: str) -> IdentityDisclosed:
    event = disclosure.disclosed_event(f"dis-{uuid.uuid4().hex}", person_id, caller, basis, reason, deps.clock())
    await disclosures.record(uow.session, event, caller.role)
    await uow.emit(event, topics.INTAKE)
    return event
