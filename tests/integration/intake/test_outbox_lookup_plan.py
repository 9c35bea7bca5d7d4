"""A request is answered once its events' outbox rows are on Kafka; it finds them by event id. The outbox only
grows (published rows stay until the person is erased), so that lookup must search the event_id index: a scan
made every accepted event cost the whole outbox, payloads included (found in the pipeline benchmark at low
load, issue 16). Checked on the database's own plan, at the head of intake's migrations."""

from __future__ import annotations

from sqlalchemy import text

from services.intake.api.admissions import outbox_rows_of
from services.intake.app import VERSIONS_DIR
from services.intake.store.tables import metadata, tables
from services.runtime.db import make_engine
from services.runtime.migrate import upgrade_to_head


async def test_the_answer_finds_its_outbox_rows_through_the_event_id_index(database_url):
    engine = make_engine(database_url)
    try:
        await upgrade_to_head(engine, "intake", metadata, VERSIONS_DIR)
        statement = outbox_rows_of(tables.outbox, ["ft-000001", "ft-000001:merged:p-2"])
        sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        async with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                rows = (await connection.execute(text("EXPLAIN QUERY PLAN " + sql))).all()
                plan = "\n".join(str(row[-1]) for row in rows)
            else:  # on an empty table PostgreSQL rightly prefers a scan: discouraged, to see what it can use
                await connection.execute(text("SET enable_seqscan = off"))
                plan = "\n".join(row[0] for row in (await connection.execute(text("EXPLAIN " + sql))).all())
    finally:
        await engine.dispose()
    assert "ix_intake_outbox_event_id" in plan, plan
