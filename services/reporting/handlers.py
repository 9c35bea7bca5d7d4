"""The reporting handler: fold each consumed event into the batch's documents; nothing is emitted."""

from __future__ import annotations

from contracts.envelope import Envelope
from services.reporting.projections import patches
from services.reporting.store import apply_patches
from services.runtime.unit_of_work import UnitOfWork


async def on_event(event: Envelope, uow: UnitOfWork) -> None:
    changes = patches(event)
    if changes:
        await apply_patches(uow.session, changes)
