"""The auditor's replay folds in place and writes its store through the database driver: what it holds must be
exactly what the live service's own path holds for the same events, whatever order and redeliveries the log
shows it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from contracts import topics
from local.sample import sample_events
from services.reporting.domain.digest import digest
from services.reporting.domain.projection import fold
from services.reporting.domain.report import compute
from services.reporting.store.documents import load_state, write_state
from services.reporting.store.replay import KEEP_ALL, fold_records, fresh_store, replay
from services.reporting.store.schema import document_table
from services.runtime.records import Record

STORY = sample_events(people=25, seed=3)
# Every fact but the clock's also sent again later under a new id (a partner repeating itself): each
# earliest-wins field then has two candidates, each latest-wins field too, and each map a second entry.
PAIRS = STORY + [(topic, event.model_copy(update={"id": f"{event.id}-again", "time": event.time + timedelta(hours=7)}))
                 for topic, event in STORY if topic != topics.CLOCK]
EVENTS = [event for _topic, event in PAIRS]
LIVE = fold(EVENTS)  # the live service's state: the pure fold, one event at a time
RECORDS = [Record(topic, 0, n, e.subject.encode(), e.to_json_bytes()) for n, (topic, e) in enumerate(PAIRS)]
POISON = Record("ariane.intake.v1", 0, 0, b"p-x", b'{"type": "fr.ariane.nonsense"}')


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False), st.lists(st.integers(0, len(RECORDS) - 1), max_size=80),
       st.integers(1, 400))
def test_the_in_place_fold_holds_the_live_state_in_any_order_with_redeliveries(
        rnd: random.Random, again: list[int], batch: int) -> None:
    # Topics interleave differently in a replay, a record may be read twice, and a poison record is skipped.
    records = RECORDS + [RECORDS[i] for i in again] + [POISON]
    rnd.shuffle(records)
    state: dict = {}
    counts = {"unparseable": 0, "after_cut": 0, "folded": 0}
    for start in range(0, len(records), batch):
        fold_records(state, records[start:start + batch], KEEP_ALL, counts)
    assert state == LIVE
    assert counts == {"unparseable": 1, "after_cut": 0, "folded": len(records) - 1}


async def _log() -> AsyncIterator[list[Record]]:
    for start in range(0, len(RECORDS), 100):
        yield RECORDS[start:start + 100]


async def _rows(url: str) -> list[tuple]:
    engine = await fresh_store(url)
    try:
        async with engine.connect() as conn:
            columns = document_table.c
            query = select(columns.key, columns.kind, columns.doc, columns.person, columns.seq).order_by(columns.key)
            return [tuple(row) for row in await conn.execute(query)]
    finally:
        await engine.dispose()


async def test_the_replayed_store_holds_what_the_live_path_stores(database_url_factory) -> None:  # noqa: ANN001
    # On the suite's store: on PostgreSQL the replay's fresh store is filled by COPY, the live path by upserts.
    replayed = await database_url_factory("replay")
    await replay(_log(), database_url=replayed)

    live = await database_url_factory("live")
    engine = await fresh_store(live)
    try:
        await write_state(engine, LIVE)  # the documents as the live path (SQLAlchemy's executemany) stores them
    finally:
        await engine.dispose()

    rows = await _rows(replayed)
    assert len(rows) == len(LIVE)
    assert rows == await _rows(live)  # same keys, kinds, owners, write number and stored text
    engine = await fresh_store(replayed)
    try:
        assert await load_state(engine) == LIVE
    finally:
        await engine.dispose()


async def test_the_report_is_the_same_from_the_forked_child_and_from_a_thread(
        database_url_factory, monkeypatch) -> None:  # noqa: ANN001
    # The live figures: the pure fold's report. The replay gives them whether its report was computed in a
    # forked child (the default) or in a thread (replay_report_in_child off, where memory is short).
    from services.reporting.store import forked as forked_module

    expected = digest(compute(LIVE))
    forked = await replay(_log(), database_url=await database_url_factory("forked"))

    def no_fork() -> None:
        raise AssertionError("the report was forked although the setting said not to")

    monkeypatch.setattr(forked_module.os, "fork", no_fork)
    threaded = await replay(_log(), database_url=await database_url_factory("threaded"), report_in_child=False)
    assert forked.digest == threaded.digest == expected
    assert forked.report == threaded.report
