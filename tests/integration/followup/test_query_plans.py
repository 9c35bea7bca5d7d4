"""The queries a tick and the read API run go through their index, so their cost follows the work, not the
territory's size: checked on the database's own plan (SQLite's EXPLAIN QUERY PLAN; on PostgreSQL, EXPLAIN with
sequential scans discouraged, since on a small table it rightly prefers one)."""

from __future__ import annotations

from datetime import date

from conversation import COORDINATOR, followup
from sqlalchemy import select, text

from services.followup import store


def _sql(statement, dialect) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def plan_of(session, statement) -> str:
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        rows = (await session.execute(text("EXPLAIN QUERY PLAN " + _sql(statement, dialect)))).all()
        return "\n".join(str(row[-1]) for row in rows)
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(row[0] for row in (await session.execute(text("EXPLAIN " + _sql(statement, dialect)))).all())


async def test_the_tick_and_the_worklist_read_through_their_indexes(kafka_bootstrap, topic_prefix, database_url,
                                                                    tmp_path):
    async with followup(kafka_bootstrap, topic_prefix, database_url, tmp_path, [COORDINATOR]) as f:
        async with f.ctx.session_factory() as session, session.begin():
            # The tick's own query, as persons_to_wake runs it on this database.
            wake = await plan_of(session, store.wake_query(date(2026, 3, 1), session.get_bind().dialect.name))
            lines = await plan_of(session, select(store.ActionRow).where(
                store.ActionRow.structure_id == "mission_locale_angevine"))
            held = await plan_of(session, select(store.HoldRow).where(
                store.HoldRow.structure_id == "mission_locale_angevine"))
    assert "ix_followup_person_wake_on" in wake, wake
    assert "ix_followup_action_structure_id" in lines, lines
    assert "ix_followup_hold_structure_id" in held, held
