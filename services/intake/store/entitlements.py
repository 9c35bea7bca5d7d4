"""Who may see whose identity, in the store: (person, structure, basis, since), one row per basis.

Rows are written as intake learns them (its ingress, the referral and followup topics) and never removed: a
structure once asked to act on someone may be asked about them later. Merges are followed when reading (the
ids folded into a person count as that person), so a row never has to move.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import utc
from services.intake.domain.entitlements import Entitlement
from services.intake.store import known as loaded
from services.intake.store.tables import EntitlementRow


_GATHERED = "intake.gathered_grants"


async def grant(session: AsyncSession, person_id: str, entitlements: list[Entitlement], since: datetime) -> None:
    """Record each (structure, basis) for the person; an older `since` already recorded is kept. In a batch
    (store.known.batched) the grants wait for `write_gathered`: nothing in a batch reads them back."""
    if loaded.batched(session):
        gathered: dict[tuple[str, str, str], datetime] = session.info.setdefault(_GATHERED, {})
        for structure_id, basis in entitlements:
            gathered.setdefault((person_id, structure_id, basis.value), utc(since))  # the first grant counts
        return
    for structure_id, basis in entitlements:
        if await loaded.get(session, EntitlementRow, (person_id, structure_id, basis.value)) is None:
            session.add(EntitlementRow(person_id=person_id, structure_id=structure_id, basis=basis.value,
                                       since=utc(since)))


async def write_gathered(session: AsyncSession) -> None:
    """The batch's grants in one statement: a row already there keeps its older `since`, as `grant`
    keeps it one by one (the table's primary key is the person, the structure and the basis)."""
    gathered: dict[tuple[str, str, str], datetime] = session.info.pop(_GATHERED, {})
    if not gathered:
        return
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = EntitlementRow.__table__  # type: ignore[attr-defined]
    rows = [{"person_id": p, "structure_id": s, "basis": b, "since": since} for (p, s, b), since in gathered.items()]
    # As an executemany: one statement compiled once and kept, where `values(rows)` compiled one per batch size.
    await session.execute(upsert(table).on_conflict_do_nothing(
        index_elements=[table.c.person_id, table.c.structure_id, table.c.basis]), rows)


async def bases(session: AsyncSession, person_ids: list[str], structure_id: str) -> set[str]:
    """The bases a structure holds for any of `person_ids` (a person and the ids folded into it)."""
    rows = await session.exec(select(EntitlementRow.basis).where(
        EntitlementRow.person_id.in_(person_ids), EntitlementRow.structure_id == structure_id))
    return set(rows.all())
