"""Reporting's handlers: every consumed event is folded into the stored documents by its type's rule.

Nothing is emitted. The rules (what each event teaches the documents) are the table `RULES` in
domain/projection.py, shared with the replay's in-memory fold; the handler for a type applies that type's rule
in the territory's time zone and joins the patches into the batch's documents.

A consumed batch is folded in one round: at its first event, the rules of every event of the batch still to
apply are run and the documents they touch read in one query (`preload`); each event then joins its patches
in memory. Outside a consumed batch (or for an event the round did not cover) an event reads what it touches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from contracts.envelope import Envelope
from services.reporting.domain.documents import Patch
from services.reporting.domain.projection import RULES, Rule
from services.reporting.store.documents import apply_patches, preload
from services.runtime.routing import HandlerTable, TableHandler
from services.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.reporting.app import ReportingDeps

_ROUND = "reporting.batch_round"  # in the unit of work's memo: each event of the round by identity, its patches


async def _batch_round(uow: UnitOfWork, zone: ZoneInfo) -> dict[int, list[Patch]]:
    """The patches of the batch's events still to apply, their documents read into the cache once."""
    found = uow.memo.get(_ROUND)
    if found is None:
        found = uow.memo[_ROUND] = {id(e): RULES[type(e)](e, zone) for e in uow.batch
                                    if type(e) in RULES and uow.is_claimed(e.id)}
        await preload(uow.session, {key for patches in found.values() for key, _ in patches})
    return found


def folding(rule: Rule) -> TableHandler:
    """The handler that folds what `rule` says into the stored documents."""

    async def fold_in(event: Envelope, uow: UnitOfWork, deps: ReportingDeps) -> None:
        changes = (await _batch_round(uow, deps.zone)).get(id(event)) if uow.batch else None
        if changes is None:
            changes = rule(event, deps.zone)
        if changes:
            await apply_patches(uow.session, changes)

    fold_in.__qualname__ = fold_in.__name__ = f"fold_{rule.__name__}"
    return fold_in


HANDLERS: HandlerTable = {event_type: folding(rule) for event_type, rule in RULES.items()}
