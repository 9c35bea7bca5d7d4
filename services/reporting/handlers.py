"""Reporting's handlers: every consumed event is folded into the stored documents by its type's rule.

Nothing is emitted. The rules (what each event teaches the documents) are the table `RULES` in
domain/projection.py, shared with the replay's in-memory fold; the handler for a type applies that type's rule
in the territory's time zone and joins the patches into the batch's documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.envelope import Envelope
from services.reporting.domain.projection import RULES, Rule
from services.reporting.store.documents import apply_patches
from services.runtime.routing import HandlerTable, TableHandler
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.reporting.app import ReportingDeps


def folding(rule: Rule) -> TableHandler:
    """The handler that folds what `rule` says into the stored documents."""

    async def fold_in(event: Envelope, uow: UnitOfWork, deps: ReportingDeps) -> None:
        changes = rule(event, deps.zone)
        if changes:
            await apply_patches(uow.session, changes)

    fold_in.__qualname__ = fold_in.__name__ = f"fold_{rule.__name__}"
    return fold_in


HANDLERS: HandlerTable = {event_type: folding(rule) for event_type, rule in RULES.items()}
