"""Who may see whose identity, in the store: (person, structure, basis, since), one row per basis.

Rows are written as intake learns them (its ingress, the referral and followup topics) and never removed: a
structure once asked to act on someone may be asked about them later. Merges are followed when reading (the
ids folded into a person count as that person), so a row never has to move.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import utc
from services.intake.domain.entitlements import Entitlement
from services.intake.store import known as loaded
from services.intake.store.tables import EntitlementRow


async def grant(session: AsyncSession, person_id: str, entitlements: list[Entitlement], since: datetime) -> None:
    """Record each (structure, basis) for the person; an older `since` already recorded is kept."""
    for structure_id, basis in entitlements:
        if await loaded.get(session, EntitlementRow, (person_id, structure_id, basis.value)) is None:
            session.add(EntitlementRow(person_id=person_id, structure_id=structure_id, basis=basis.value,
                                       since=utc(since)))


async def bases(session: AsyncSession, person_ids: list[str], structure_id: str) -> set[str]:
    """The bases a structure holds for any of `person_ids` (a person and the ids folded into it)."""
    rows = await session.exec(select(EntitlementRow.basis).where(
        EntitlementRow.person_id.in_(person_ids), EntitlementRow.structure_id == structure_id))
    return set(rows.all())
