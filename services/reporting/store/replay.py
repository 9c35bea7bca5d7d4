"""The auditor's replay: read the topics from offset 0 (or an archive), fold, store, report, digest.

No consumer group: every partition is assigned explicitly and read up to the end offsets captured when the
replay starts, so the replay is a closed, repeatable read of the log as it stood then.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.envelope import Envelope
from services.reporting.domain.calendar import DEFAULT_ZONE, Period, as_of_filter
from services.reporting.domain.digest import digest
from services.reporting.domain.documents import FIELDS, Join, State, join_value
from services.reporting.domain.projection import RULES
from services.reporting.domain.report import Report, compute
from services.reporting.store.bulk import write_state_bulk
from services.reporting.store.documents import count_documents, load_state
from services.reporting.store.forked import start_forked
from services.reporting.store.parse import parse_record, parse_record_dated
from services.reporting.store.schema import SERVICE, VERSIONS_DIR, metadata
from services.runtime.db import make_engine
from services.runtime.kafka_security import client_security
from services.runtime.migrate import upgrade_to_head
from services.runtime.records import Record

Progress = Callable[[int, int], None]  # (records read so far, records to read)
FETCH_MAX = 5000
READ_AHEAD = 4  # batches read ahead of the fold (of up to FETCH_MAX records each)
FOLD_SLICE = 1000  # records folded between two turns of the event loop (a few ms)
STALL_TIMEOUT_S = 60.0
POLICIES = {name: field.join for name, field in FIELDS.items()}
MIN, MAX = Join.MIN, Join.MAX


@dataclass
class ReplayResult:
    report: Report
    digest: str
    records: int
    folded: int
    skipped_unparseable: int
    skipped_after_cut: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)  # seconds: reading and folding, then store and report

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


async def _partitions(consumer: AIOKafkaConsumer, physical_topics: Iterable[str]) -> list[TopicPartition]:
    out = []
    for topic in physical_topics:
        parts = consumer.partitions_for_topic(topic)
        if parts is None:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - first look at a topic
            parts = consumer.partitions_for_topic(topic) or set()
        out.extend(TopicPartition(topic, p) for p in sorted(parts))
    return out


async def read_log(bootstrap: str, physical_topics: Iterable[str], progress: Progress | None = None,
                   *, raw: bool = False) -> AsyncIterator[list[Record]]:
    """Every committed record of the topics, from offset 0 to the end offsets seen at start, in batches.

    `raw`: the client's own records (they have the same `value`, `topic`, `partition`, `offset`), not copied
    into `Record`s: the replay reads only the value, and the copy cost as much as folding."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                **client_security(bootstrap, SERVICE),  # reads what reporting consumes
                                isolation_level="read_committed", auto_offset_reset="earliest",
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    try:
        parts = await _partitions(consumer, physical_topics)
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        starts = await consumer.beginning_offsets(parts)
        total = sum(max(0, ends[tp] - starts[tp]) for tp in parts)
        remaining = {tp for tp in parts if ends[tp] > starts[tp]}
        for tp in parts:
            consumer.seek(tp, starts[tp])
        done = 0
        if progress:
            progress(0, total)
        loop = asyncio.get_running_loop()
        stalled_since = loop.time()
        while remaining:
            if loop.time() - stalled_since > STALL_TIMEOUT_S:
                raise TimeoutError(f"replay made no progress for {STALL_TIMEOUT_S}s on {sorted(map(str, remaining))}")
            batches = await consumer.getmany(*remaining, timeout_ms=500, max_records=FETCH_MAX)
            if batches:
                stalled_since = loop.time()
            records: list[Record] = []
            for tp, recs in batches.items():
                end = ends[tp]
                if raw:
                    records.extend(recs if not recs or recs[-1].offset < end else [r for r in recs if r.offset < end])
                else:
                    records.extend(Record.from_consumer(rec) for rec in recs if rec.offset < end)
                # Transaction markers take offsets too: the position, not the last record, says we are done.
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
            if not batches:
                for tp in list(remaining):
                    if await consumer.position(tp) >= ends[tp]:
                        remaining.discard(tp)
            if records:
                done += len(records)
                if progress:
                    progress(done, total)
                yield records
    finally:
        await consumer.stop()


def KEEP_ALL(event: Envelope) -> bool:  # noqa: N802 - the filter that keeps everything, known by identity
    return True


def fold_records(state: State, records: Iterable[Record], keep: Callable, counts: dict[str, int],
                 zone: ZoneInfo = DEFAULT_ZONE) -> None:
    """Fold raw records into `state` in place: unparseable ones are skipped (live, they are dead-lettered).

    The bytes are parsed by `parse.parse_record` directly (no `json.loads` first): a record of a type that has
    a projection rule is validated by its contract model, as the live service does; a record of a type
    without one (a contact, a check-in: half the log) is read for its `type` alone (and, with a cut, its
    times), since nothing of it can reach a figure. So the counts mean: `unparseable`, the records that are
    not a JSON object naming a contract's type, and the records of a type with a rule that fail its
    contract; `folded`, every other record kept by the cut, a rule-less one counted once it names its type
    (its other fields unchecked); `after_cut`, those the cut left out (with a cut, a rule-less record must
    also carry valid `time` and `recordedtime` to be placed).

    Each patch is joined into the state's own document in place: the replay owns every document of `state`,
    so no copy is needed (the live handlers keep `documents.join`, which copies). A patch is a fresh dict the
    rule made for this event alone, so a new document is the patch itself; MIN and MAX fields are joined
    inline (`min(old, new)` keeps `old` unless `new < old`, and likewise for max), the maps by `join_value`:
    this loop runs once per event and field."""
    cut = keep is not KEEP_ALL
    validate = parse_record_dated if cut else parse_record
    rules = RULES
    policies = POLICIES
    unparseable = after_cut = folded = 0
    for record in records:
        try:
            event = validate(record.value)
        except Exception:  # noqa: BLE001 - the live service dead-letters these; a replay skips them alike
            unparseable += 1
            continue
        if cut and not keep(event):
            after_cut += 1
            continue
        folded += 1
        rule = rules.get(type(event))
        if rule is None:  # a type that teaches the projection nothing (a contact, a check-in)
            continue
        for key, patch in rule(event, zone):
            doc = state.get(key)
            if doc is None:
                state[key] = patch
                continue
            for name, value in patch.items():
                old = doc.get(name)
                if old is None:
                    doc[name] = value
                elif value is None:
                    continue
                else:
                    policy = policies[name]
                    if policy is MIN:
                        if value < old:
                            doc[name] = value
                    elif policy is MAX:
                        if value > old:
                            doc[name] = value
                    else:
                        doc[name] = join_value(policy, old, value)
    counts["unparseable"] += unparseable
    counts["after_cut"] += after_cut
    counts["folded"] += folded


async def _read_ahead(batches: AsyncIterator[list[Record]], ahead: asyncio.Queue[list[Record] | None]) -> None:
    """Hand the log's batches to the fold as they arrive, up to READ_AHEAD batches ahead, then None.

    Read in line with the fold (`async for`), the consumer asked the broker for the next records only once a
    batch was folded, and the fold waited for them: at loads of 4 to 7 the raw drain of a 41,858-record log
    spent 0.15-0.23 s of CPU in 0.44-0.93 s, the rest waiting for the broker (which shares the machine's cores;
    on a quiet machine the wait is small). Read by this task, the next fetch is in flight while the fold works,
    and its wait is hidden behind the fold's CPU."""
    try:
        async for batch in batches:
            await ahead.put(batch)
    except asyncio.CancelledError:  # the fold failed and is not waiting: close the reader (its consumer) now
        close = getattr(batches, "aclose", None)
        if close is not None:
            await close()
        raise
    except BaseException:
        await ahead.put(None)  # the fold stops at the end mark, then gets this error by awaiting the task
        raise
    await ahead.put(None)


async def fresh_store(database_url: str):  # noqa: ANN201
    engine = make_engine(database_url)
    await upgrade_to_head(engine, SERVICE, metadata, VERSIONS_DIR)
    return engine


async def replay(batches: AsyncIterator[list[Record]], *, database_url: str, period: Period = Period(),
                 as_of: datetime | None = None, territory: str = "", zone: ZoneInfo = DEFAULT_ZONE,
                 report_in_child: bool = True) -> ReplayResult:
    """Fold every batch in memory, write the projection to a fresh store in bulk, and report; business days
    are those of `zone`, the territory's time zone. `report_in_child`: the report is computed in a forked child
    meanwhile (forked.py; settings.replay_report_in_child), else in a thread.

    The store holds exactly the folded state (it was empty), so the report is computed from the state just
    written rather than read back; a store that already held documents is read back whole, as before.

    The state only grows and holds no reference cycles, yet each full pass of the cyclic garbage collector
    walked all of it (and everything else the process holds) again: a quarter of the replay's time on a
    2,000-person year. So what is alive after each batch is frozen out of the collector's passes (`gc.freeze`)
    until the replay ends. What reading, parsing and folding leave behind is freed as usual (by reference
    counts). The collector's automatic passes are off while the replay runs (they walked the young rows and
    documents every 700 allocations, in the fold, the encoding and the report: 40-60 ms of a 0.6 s replay of a
    3,000-person year, in memory): instead, one pass over the young objects after each batch collects the
    batch's reference cycles, if any, before the rest is frozen. Both are given back as they were found."""
    started = time.perf_counter()
    collecting = gc.isenabled()
    gc.disable()
    try:
        return await _replay(batches, database_url, period, as_of, territory, zone, started, report_in_child)
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()


async def _replay(batches: AsyncIterator[list[Record]], database_url: str, period: Period, as_of: datetime | None,
                  territory: str, zone: ZoneInfo, started: float, report_in_child: bool) -> ReplayResult:
    keep = as_of_filter(as_of) if as_of is not None else KEEP_ALL
    counts = {"unparseable": 0, "after_cut": 0, "folded": 0}
    state: State = {}
    records = 0
    store = asyncio.ensure_future(fresh_store(database_url))  # migrated while the log is read
    ahead: asyncio.Queue[list[Record] | None] = asyncio.Queue(READ_AHEAD)
    reader = asyncio.ensure_future(_read_ahead(batches, ahead))
    try:
        while (batch := await ahead.get()) is not None:
            records += len(batch)
            for start in range(0, len(batch), FOLD_SLICE):
                fold_records(state, batch[start:start + FOLD_SLICE], keep, counts, zone)
                await asyncio.sleep(0)  # the reader's turn: the next fetch is asked for and received meanwhile
            gc.collect(0)  # the batch's garbage cycles, if any; what it left alive is then frozen
            gc.freeze()
        await reader  # its error, if it ended with one
    except BaseException:
        reader.cancel()
        with suppress(BaseException):
            await reader
        # The store's migration is let finish (it is short), so its engine is closed here: cancelled midway,
        # it left an open driver connection to the collector.
        with suppress(BaseException):
            await (await store).dispose()
        raise
    read = time.perf_counter()
    engine = await store
    try:
        if await count_documents(engine) == 0:
            # The store holds exactly `state` once written: the report is computed from it on another core
            # while the state is encoded and written (forked.py), or in a thread where memory is short.
            reporting = start_forked(compute, state, period, territory, in_child=report_in_child)
            try:
                await write_state_bulk(engine, state, empty=True)
            finally:  # awaited even if the write fails: the child is reaped
                report = await reporting
        else:
            await write_state_bulk(engine, state)
            report = compute(await load_state(engine), period, territory)
    finally:
        await engine.dispose()
    result = digest(report)
    done = time.perf_counter()
    return ReplayResult(report, result, records, counts["folded"], counts["unparseable"], counts["after_cut"],
                        done - started, {"read_and_fold": read - started, "store_and_report": done - read})


def default_replay_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{(directory / 'replay.db').resolve()}"
