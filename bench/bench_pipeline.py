"""The whole pipeline's throughput and latency against a raw consume→produce hop, on a real broker, in one run.

    python bench/bench_pipeline.py [--events 5000] [--warm 200] [--rates 20 200] [--seconds 30]
                                   [--http-sending backlog|rounds] [--database-url URL] [--drain-timeout 900]
                                   [--profile SERVICE]

The four services run as processes (local/pipeline.py, as `ariane demo` runs them) on a real broker
(KAFKA_BOOTSTRAP, or a local broker started for the run), each on its own SQLite file (a fresh PostgreSQL
database per pipeline with --database-url or ARIANE_DATABASE_URL). The partner events are a simulated
territory year's, those a partner sends without waiting for an answer (bench/pipeline_events.py), each part of
the run with people of its own.

1. **Raw hop** (the baseline, first, with no service running): a plain aiokafka group reads topic A and
   produces every record to topic B, committing after each batch (bench/raw_hop.py). Warmed with `--warm`
   events, then the `--events` events are produced onto A; the time runs from the first send to the hop's
   group at rest (local/drain.py), records/s; and the hop alone: the same records produced onto A while it
   holds (paused, still in its group), timed from its release to at rest. Then, at each paced rate, the time from each record's produce
   acknowledgement to its group having committed past it.
2. **Over HTTP**: a fresh pipeline, warmed with `--warm` events; then the `--events` events POSTed to intake
   as each structure's backlog, cut by person into four ordered streams, in batches of up to 200 of its events
   with its key, a stream's next batch once its previous one is answered, all the streams at once, at most 8
   POSTs in flight (`--http-sending rounds`: each person's events a round apart, every round waiting for the
   slowest answer of the one before), the time running
   from the first POST to every consumer group at rest and every outbox empty (`LocalPipeline.drained`).
   Meanwhile /health of intake and followup is asked every 100 ms, and beside it /health/live, which
   answers from memory: the floor of any answer from that process at that moment (bench/health_probe.py).
   Then, on the same pipeline, each rate in `--rates` for `--seconds`: events POSTed on schedule (open loop),
   and for each accepted event the time from its 202 to reporting's consumer group having committed past the
   record intake published for it (bench/visibility.py): reporting commits its offsets after the transaction
   that folded the batch into its documents, so from then on every report and figure counts the event. The
   same is given from the POST's sending: a batch's 202 comes once all its events are confirmed, and under
   load reporting may have folded an event before the answer reached the partner (a negative figure). /health
   and /health/live are probed throughout each paced load too, as during the backlog.
3. **Onto the inbound topic**: another fresh pipeline, warmed alike; the same number of other people's events
   produced onto each structure's `ariane.inbound.v1.<structure id>` as a partner speaking Kafka does, until at rest.

Checks: the hop produced exactly as many records as it was given; every event sent to Ariane was accepted and
published by intake (found by its id on `ariane.intake.v1`). Prints the ratios and writes
bench/results/pipeline-<time>.json. `--profile SERVICE` runs that service under cProfile (bench/profiling.py)
and prints where it spent its time. Everything runs on loopback and stops by itself; only the processes it
started are stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiokafka import AIOKafkaProducer, TopicPartition  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from bench.group_lag import GroupLagSampler  # noqa: E402
from bench.health_probe import HealthProbe  # noqa: E402
from bench.machine import load_average, machine, write_result  # noqa: E402
from bench.partner_http import PacedPoster, PartnerPoster  # noqa: E402
from bench.pipeline_events import Part, parts_of  # noqa: E402
from bench.process_cpu import CpuMeter  # noqa: E402
from bench.profiling import profile_service, top  # noqa: E402
from bench.raw_hop import RawHop, create_topics  # noqa: E402
from bench.visibility import CommitWatcher, OffsetTap  # noqa: E402
from contracts import topics  # noqa: E402
from contracts.envelope import Envelope  # noqa: E402
from local import catalogue  # noqa: E402
from local.databases import create_postgres_database  # noqa: E402
from local.drain import PipelineWatcher, wait_drained  # noqa: E402
from local.kafka import LocalKafka  # noqa: E402
from local.pipeline import LocalPipeline  # noqa: E402
from services.runtime.kafka_security import ADMIN, client_security  # noqa: E402
from services.runtime.service import event_loop_for, http_parser_in_use  # noqa: E402

PARTITIONS = 6  # the services' topics (local/kafka/topics.py)
BROKER_START_S = 240  # a loaded machine starts the JVM slowly
BROKER_PID: int | None = None  # the broker this run started (None: KAFKA_BOOTSTRAP's, not on this machine)
PROBED = ("intake", "followup")
# /metrics scraped once a second on both ports: intake, the busiest, and reporting, whose collector writes out the
# territory's live figures (the largest answer).
SCRAPED = ("intake", "reporting")
TICK_S = 0.05  # the paced senders' schedule step


# -- figures -------------------------------------------------------------------------------------------------
def quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile (q in [0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def spread(seconds: Sequence[float]) -> dict[str, Any]:
    def ms(x: float | None) -> float | None:
        return None if x is None else round(x * 1000, 1)
    return {"n": len(seconds), "p50_ms": ms(quantile(seconds, 0.5)), "p99_ms": ms(quantile(seconds, 0.99)),
            "max_ms": ms(max(seconds) if seconds else None)}


def bar() -> Progress:
    return Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[note]}"), TimeElapsedColumn())


@contextmanager
def one_bar(description: str, total: int, note: str = ""):  # noqa: ANN201
    with bar() as progress:
        task = progress.add_task(description, total=total, note=note)
        yield progress, task


async def waiting_bar(description: str, total: int, done: Callable[[], int], until: Callable[[], Any],
                      note: Callable[[], str] = lambda: "") -> None:
    """Show `done()` of `total` while `until` (a coroutine function) runs."""
    with one_bar(description, total) as (progress, task):
        work = asyncio.create_task(until())
        while not work.done():
            progress.update(task, completed=min(total, done()), note=note())
            await asyncio.wait({work}, timeout=0.25)
        progress.update(task, completed=min(total, done()), note=note())
        work.result()


# -- Kafka helpers -------------------------------------------------------------------------------------------
async def produce_all(producer: AIOKafkaProducer, topic: str | Callable[[Envelope], str], events: Sequence[Envelope],
                      description: str) -> None:
    """``topic``: one topic, or the topic of each event (a partner's own inbound topic)."""
    with one_bar(description, len(events)) as (progress, task):
        for start in range(0, len(events), 500):
            chunk = events[start:start + 500]
            futures = [await producer.send(topic(e) if callable(topic) else topic, e.to_json_bytes(),
                                           key=topics.key_for(e.subject)) for e in chunk]
            await asyncio.gather(*futures)
            progress.advance(task, len(chunk))


def feeding_producer(bootstrap: str) -> AIOKafkaProducer:
    """As the simulator's Kafka sender (a partner speaking Kafka) and the baseline's feeder alike."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5,
                            **client_security(bootstrap, ADMIN))


async def lag_of(watcher: PipelineWatcher, box: dict[str, int]) -> None:
    box["lag"] = (await watcher.progress()).lag


async def until_at_rest(label: str, watcher: PipelineWatcher, rest: Callable[[], Any]) -> None:
    """Run `rest()` (waits until drained) under a bar showing the watched groups' lag."""
    box = {"lag": 0, "peak": 1}

    async def look() -> None:
        while True:
            try:
                await lag_of(watcher, box)
                box["peak"] = max(box["peak"], box["lag"])
            except Exception:  # noqa: BLE001 - a look is only for the bar
                pass
            await asyncio.sleep(0.5)

    looker = asyncio.create_task(look())
    try:
        await waiting_bar(label, 1, done=lambda: 0, until=rest, note=lambda: f"records behind: {box['lag']:,}")
    finally:
        looker.cancel()


# -- the raw hop ---------------------------------------------------------------------------------------------
async def hop_runs(bootstrap: str, prefix: str, warm: Part, main: Part, paced: dict[int, Part], seconds: float,
                   drain_timeout: float) -> dict[str, Any]:
    security = client_security(bootstrap, ADMIN)
    source, target, group = f"{prefix}hop.in", f"{prefix}hop.out", f"{prefix}hop"
    await create_topics(bootstrap, security, [source, target], PARTITIONS)
    hop = RawHop(bootstrap, security, source, target, group)
    watcher = PipelineWatcher(bootstrap, {group: [source]})
    display = PipelineWatcher(bootstrap, {group: [source]})
    producer = feeding_producer(bootstrap)
    await producer.start()
    await hop.start()
    await watcher.start()
    await display.start()
    out: dict[str, Any] = {}
    try:
        async def rest() -> None:
            await wait_drained(watcher, timeout=drain_timeout)

        await produce_all(producer, source, warm.events, "raw hop: warm-up")
        await until_at_rest("raw hop: warm-up at rest", display, rest)
        cpu = cpu_meter(None)
        began = time.perf_counter()
        cpu.start()
        await produce_all(producer, source, main.events, "raw hop: events onto A")
        await until_at_rest("raw hop: at rest", display, rest)
        elapsed = time.perf_counter() - began
        cpu.stop()
        given = len(warm.events) + len(main.events)
        ends = await watcher._consumer.end_offsets(  # noqa: SLF001 - the watcher's own reader of end offsets
            [TopicPartition(target, p) for p in range(PARTITIONS)])
        if hop.hopped != given or sum(ends.values()) != given:
            raise AssertionError(f"the raw hop moved {hop.hopped} records ({sum(ends.values())} on B) of {given}")
        out["throughput"] = {"events": len(main.events), "seconds": round(elapsed, 3),
                             "events_per_s": round(len(main.events) / elapsed, 1),
                             "cpu": cpu_summary(cpu, len(main.events), elapsed)}
        # The hop alone: the same records waiting on A (produced while it holds), from its release to at rest.
        hop.hold()
        await asyncio.sleep(0.5)  # the batch in hand, if any, is done
        await produce_all(producer, source, main.events, "raw hop: filling A, held")
        began = time.perf_counter()
        hop.release()
        await until_at_rest("raw hop alone: at rest", display, rest)
        elapsed = time.perf_counter() - began
        if hop.hopped != given + len(main.events):
            raise AssertionError(f"the raw hop moved {hop.hopped - given} of {len(main.events)} waiting records")
        out["throughput_alone"] = {"events": len(main.events), "seconds": round(elapsed, 3),
                                   "events_per_s": round(len(main.events) / elapsed, 1)}
        out["latency"] = {}
        for rate, part in paced.items():
            out["latency"][str(rate)] = await hop_paced(bootstrap, security, producer, source, group, part, rate,
                                                        seconds, drain_timeout)
        if hop.failed() is not None:
            raise RuntimeError(f"the raw hop failed: {hop.failed()!r}")
    finally:
        await display.stop()
        await watcher.stop()
        await hop.stop()
        await producer.stop()
    return out


async def hop_paced(bootstrap: str, security: dict, producer: AIOKafkaProducer, source: str, group: str, part: Part,
                    rate: int, seconds: float, timeout: float) -> dict[str, Any]:
    """Each record produced on schedule; from its acknowledgement to the hop's group past it."""
    commits = CommitWatcher(bootstrap, security, group)
    await commits.start()
    acked: dict[int, tuple[float, TopicPartition, int]] = {}
    futures: list[asyncio.Future] = []

    def on_ack(i: int) -> Callable[[asyncio.Future], None]:
        def done(future: asyncio.Future) -> None:
            if not future.cancelled() and future.exception() is None:
                meta = future.result()
                acked[i] = (time.perf_counter(), TopicPartition(meta.topic, meta.partition), meta.offset)
        return done

    events = part.events
    try:
        with one_bar(f"raw hop: {rate}/s for {seconds:.0f} s", len(events)) as (progress, task):
            began, sent = time.perf_counter(), 0
            while sent < len(events):
                due = min(len(events), int(rate * (time.perf_counter() - began)) + 1)
                for i in range(sent, due):
                    future = await producer.send(source, events[i].to_json_bytes(), key=topics.key_for(events[i].subject))
                    future.add_done_callback(on_ack(i))
                    futures.append(future)
                progress.advance(task, due - sent)
                sent = due
                await asyncio.sleep(TICK_S)
            await asyncio.gather(*futures)
        latencies = await settle(f"raw hop: {rate}/s visible", commits, {i: a for i, a in acked.items()}, timeout)
    finally:
        await commits.stop()
    return {"rate": rate, "sent": len(events), "acknowledged": len(acked), **spread(latencies)}


async def settle(label: str, commits: CommitWatcher, sent: dict[Any, tuple[float, TopicPartition, int]],
                 timeout: float) -> list[float]:
    """Wait until every record is visible (bounded); the seconds from its send time to visible."""
    deadline = time.monotonic() + timeout

    def visible() -> int:
        return sum(1 for _, tp, offset in sent.values() if commits.visible_at(tp, offset) is not None)

    async def until() -> None:
        while visible() < len(sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    await waiting_bar(label, len(sent), visible, until)
    return [seen - at for at, tp, offset in sent.values() if (seen := commits.visible_at(tp, offset)) is not None]


# -- Ariane --------------------------------------------------------------------------------------------------
async def fresh_database(server_url: str | None) -> str | None:
    """A new empty PostgreSQL database for one pipeline (its four services share it, as in a deployment)."""
    if not server_url or not server_url.startswith("postgresql"):
        return None
    return await create_postgres_database(server_url, f"ariane_bench_{uuid.uuid4().hex[:10]}")


async def started_pipeline(run_dir: Path, bootstrap: str, database_url: str | None) -> LocalPipeline:
    pipeline = LocalPipeline(run_dir=run_dir, prefix=f"bench{uuid.uuid4().hex[:8]}.", partitions=PARTITIONS,
                             database_url=await fresh_database(database_url))
    with one_bar(f"starting the services ({run_dir.name})", 1) as (progress, task):
        await pipeline.start(bootstrap=bootstrap, timeout=240)
        progress.advance(task)
    return pipeline


def cpu_meter(pipeline: LocalPipeline | None, probe: HealthProbe | None = None) -> CpuMeter:
    """Every process the timed window's work runs in: the four services, the broker, this benchmark (feeding,
    posting, watching; the raw hop runs in it) and the /health prober."""
    children = pipeline.supervisor.children if pipeline is not None and pipeline.supervisor is not None else []
    return CpuMeter({**{child.name: child.pid for child in children}, "broker": BROKER_PID,
                     "benchmark": os.getpid(), **({"health prober": probe.pid} if probe is not None else {})})


def cpu_summary(meter: CpuMeter, events: int, elapsed: float) -> dict[str, Any]:
    """CPU seconds by process, per partner event, and the share of the machine's cores they add up to."""
    cores = os.cpu_count() or 1
    return {"seconds": meter.spent, "ms_per_event": meter.per_event_ms(events),
            "share_of_cores": round(sum(meter.spent.values()) / (elapsed * cores), 3) if elapsed else None}


def published_check(tap: OffsetTap, parts: Sequence[Part]) -> int:
    """How many of the parts' events intake published; raises unless all of them."""
    ids = [e.id for part in parts for e in part.events]
    missing = [i for i in ids if i not in tap.where]
    if missing:
        raise AssertionError(f"{len(missing)} of {len(ids)} events sent were not published by intake, "
                             f"e.g. {missing[:5]}")
    return len(ids)


async def ariane_http(run_dir: Path, bootstrap: str, database_url: str | None, warm: Part, main: Part,
                      paced: dict[int, Part], seconds: float, drain_timeout: float,
                      sending: str = "backlog") -> dict[str, Any]:
    pipeline = await started_pipeline(run_dir, bootstrap, database_url)
    security = pipeline.kafka_security()
    tap = OffsetTap(bootstrap, security, pipeline.prefix + topics.INTAKE)
    display = PipelineWatcher(bootstrap, dict(pipeline.watcher.groups))  # type: ignore[union-attr]
    poster = PartnerPoster(pipeline.url("intake"), pipeline.api_keys)
    await tap.start()
    await display.start()
    out: dict[str, Any] = {}
    try:
        for events in warm.rounds:
            await poster.post_round(events)
        await until_at_rest("HTTP: warm-up at rest", display, lambda: pipeline.drained(drain_timeout))
        probe = health_probe(pipeline)
        warm_verdicts = dict(poster.verdicts)
        poster.verdicts.clear()
        await probe.start()
        sampler = GroupLagSampler(display)
        cpu = cpu_meter(pipeline, probe)
        began = time.perf_counter()
        cpu.start()
        sampler.start()
        with one_bar(f"HTTP: POST /v1/events ({sending})", len(main.events)) as (progress, task):
            if sending == "backlog":
                await poster.post_backlog(main.events, on_posted=lambda n: progress.advance(task, n))
            else:
                for events in main.rounds:
                    await poster.post_round(events, on_posted=lambda n: progress.advance(task, n))
        posted = time.perf_counter() - began
        await until_at_rest("HTTP: every group at rest", display, lambda: pipeline.drained(drain_timeout))
        elapsed = time.perf_counter() - began
        cpu.stop()
        await sampler.stop()
        await probe.stop()
        await asyncio.sleep(1.0)  # the tap's last fetch
        published = published_check(tap, [warm, main])
        taken = poster.verdicts.get("accepted", 0) + poster.verdicts.get("duplicate", 0)  # duplicate: a resend
        if taken != len(main.events) or taken != sum(poster.verdicts.values()):
            raise AssertionError(f"intake's verdicts on the {len(main.events)} events: {dict(poster.verdicts)}")
        out["throughput"] = {"events": len(main.events), "seconds": round(elapsed, 3),
                             "events_per_s": round(len(main.events) / elapsed, 1),
                             "posting_seconds": round(posted, 3), "sending": sending,
                             "verdicts": dict(poster.verdicts),
                             "warm_verdicts": warm_verdicts, "http_statuses": dict(poster.http_statuses),
                             "unavailable": dict(poster.unavailable),
                             "published_by_intake": published,
                             "group_lag": sampler.summary(pipeline.prefix),
                             "cpu": cpu_summary(cpu, len(main.events), elapsed)}
        out.update(probe_summary(probe))
        out["latency"] = {}
        reporting = pipeline.prefix + catalogue.by_name("reporting").group_id
        for rate, part in paced.items():
            out["latency"][str(rate)] = await ariane_paced(pipeline, tap, reporting, part, rate, seconds,
                                                           drain_timeout)
    finally:
        await poster.close()
        await display.stop()
        await tap.stop()
        await pipeline.stop()
    return out


async def ariane_paced(pipeline: LocalPipeline, tap: OffsetTap, reporting_group: str, part: Part, rate: int,
                       seconds: float, timeout: float) -> dict[str, Any]:
    commits = CommitWatcher(pipeline.bootstrap, pipeline.kafka_security(), reporting_group)
    poster = PartnerPoster(pipeline.url("intake"), pipeline.api_keys, concurrency=64)
    # /health asked as during the throughput parts, for the whole paced load: the steady state an operator sees.
    probe = health_probe(pipeline)
    await commits.start()
    try:
        paced = PacedPoster(poster, rate, TICK_S)
        await probe.start()
        cpu = cpu_meter(pipeline, probe)
        cpu.start()
        with one_bar(f"HTTP: {rate}/s for {seconds:.0f} s", len(part.events)) as (progress, task):
            scheduled = await paced.run(part.events, on_tick=lambda n: progress.advance(task, n))
        cpu.stop()
        await probe.stop()
        deadline = time.monotonic() + timeout

        def known() -> int:
            return sum(1 for i in poster.answered_at if i in tap.where)

        async def until_known() -> None:
            while known() < len(poster.answered_at) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)

        await waiting_bar(f"HTTP: {rate}/s published", len(poster.answered_at), known, until_known)
        sent = {i: (at, *tap.where[i]) for i, at in poster.answered_at.items() if i in tap.where}
        latencies = await settle(f"HTTP: {rate}/s in reporting", commits, sent,
                                 max(1.0, deadline - time.monotonic()))
        # The 202 of a batch comes once all its events are confirmed: under load reporting may have folded an
        # event before its answer reached the partner (a negative figure). From the POST is the partner's wait.
        from_post = [seen - poster.posted_at[i] for i, (_, tp, offset) in sent.items()
                     if (seen := commits.visible_at(tp, offset)) is not None]
        from_due = [seen - paced.due_at[i] for i, (_, tp, offset) in sent.items()
                    if (seen := commits.visible_at(tp, offset)) is not None]
    finally:
        await poster.close()
        await commits.stop()
    return {"rate": rate, "sent": len(part.events), "schedule_seconds": round(scheduled, 2),
            "answered": len(poster.answered_at), "verdicts": dict(poster.verdicts),
            "reasons": dict(poster.reasons), "http_statuses": dict(poster.http_statuses),
            "unavailable": dict(poster.unavailable),
            "visible": len(latencies), **spread(latencies), "from_post": spread(from_post),
            "from_due": spread(from_due), "answered_after_seconds": round(paced.answered_after_s, 2),
            "cpu_while_sending": cpu_summary(cpu, len(part.events), paced.answered_after_s),
            **probe_summary(probe)}


def health_probe(pipeline: LocalPipeline) -> HealthProbe:
    """/health of the probed services on their API port (and /health/live beside it) and on their operations port."""
    scraped = {f"{name} {port}": url(name) for name in SCRAPED
               for port, url in (("api", pipeline.url), ("ops", pipeline.ops_url))}
    return HealthProbe({name: pipeline.url(name) for name in PROBED},
                       ops_urls={name: pipeline.ops_url(name) for name in PROBED}, control=True, scrape_urls=scraped)


def probe_summary(probe: HealthProbe) -> dict[str, Any]:
    t = probe.timings
    return {"health": {name: {**spread(t.seconds[name]), "failed": t.failed[name]} for name in PROBED},
            "health_live": {name: spread(t.live_seconds[name]) for name in PROBED},
            "health_ops": {name: {**spread(t.ops_seconds[name]), "failed": t.ops_failed[name]}
                           for name in t.ops_seconds},
            "health_control": {**spread(t.control_seconds), "failed": t.control_failed},
            "metrics_scrape": {label: spread(seconds) for label, seconds in t.scrape_seconds.items()},
            "loop_and_gc": {name: loop_and_gc(probe, name) for name in PROBED}}


def loop_and_gc(probe: HealthProbe, name: str) -> dict[str, Any]:
    """While probed: the share of the service's loop-lag readings over 50 and 100 ms, and its garbage collector's
    passes by generation (how many, how many over 10 and 50 ms): a pass holds the interpreter's lock, so the
    operations port waits for it as the loop does."""
    gc = {}
    for generation, buckets in sorted(probe.timings.gc_pauses.get(name, {}).items()):
        passes = buckets.get(float("inf"), 0.0)
        gc[generation] = {"passes": int(passes), "over_10ms": int(passes - buckets.get(0.01, passes)),
                          "over_50ms": int(passes - buckets.get(0.05, passes))}
    return {"lag_over_50ms": probe.lag_share_over(name, 0.05), "lag_over_100ms": probe.lag_share_over(name, 0.1),
            "gc": gc}


async def ariane_kafka(run_dir: Path, bootstrap: str, database_url: str | None, warm: Part, main: Part,
                       drain_timeout: float) -> dict[str, Any]:
    pipeline = await started_pipeline(run_dir, bootstrap, database_url)
    tap = OffsetTap(bootstrap, pipeline.kafka_security(), pipeline.prefix + topics.INTAKE)
    display = PipelineWatcher(bootstrap, dict(pipeline.watcher.groups))  # type: ignore[union-attr]
    producer = feeding_producer(bootstrap)
    def inbound(event: Envelope) -> str:  # each structure's own topic (the admin feeder may write them all)
        return pipeline.prefix + topics.inbound_topic(event.source)

    await tap.start()
    await display.start()
    await producer.start()
    try:
        await produce_all(producer, inbound, warm.events, "Kafka: warm-up")
        await until_at_rest("Kafka: warm-up at rest", display, lambda: pipeline.drained(drain_timeout))
        probe = health_probe(pipeline)
        await probe.start()
        sampler = GroupLagSampler(display)
        cpu = cpu_meter(pipeline, probe)
        began = time.perf_counter()
        cpu.start()
        sampler.start()
        await produce_all(producer, inbound, main.events, "Kafka: onto the inbound topic")
        produced = time.perf_counter() - began
        await until_at_rest("Kafka: every group at rest", display, lambda: pipeline.drained(drain_timeout))
        elapsed = time.perf_counter() - began
        cpu.stop()
        await sampler.stop()
        await probe.stop()
        await asyncio.sleep(1.0)  # the tap's last fetch
        published = published_check(tap, [warm, main])
    finally:
        await producer.stop()
        await display.stop()
        await tap.stop()
        await pipeline.stop()
    return {"throughput": {"events": len(main.events), "seconds": round(elapsed, 3),
                           "events_per_s": round(len(main.events) / elapsed, 1),
                           "producing_seconds": round(produced, 3), "published_by_intake": published,
                           "group_lag": sampler.summary(pipeline.prefix),
                           "cpu": cpu_summary(cpu, len(main.events), elapsed)},
            **probe_summary(probe)}


# -- the run -------------------------------------------------------------------------------------------------
def services_runtime() -> dict[str, str]:
    """The event loop and HTTP parser the services ran on: what ARIANE_EVENT_LOOP and ARIANE_HTTP_PARSER ask for,
    "auto" resolved as the services resolve it (they run on this interpreter, services/runtime/service.py)."""
    return {"event_loop": event_loop_for(os.environ.get("ARIANE_EVENT_LOOP", "auto")),
            "http_parser": http_parser_in_use(os.environ.get("ARIANE_HTTP_PARSER", "auto"))}


def ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


async def main(bootstrap: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    load_before = load_average()
    paced_sizes = {rate: max(1, round(rate * args.seconds)) for rate in args.rates}
    sizes = {"hop_warm": args.warm, "hop": args.events, "http_warm": args.warm, "http": args.events,
             "kafka_warm": args.warm, "kafka": args.events,
             **{f"http_{rate}": n for rate, n in paced_sizes.items()},
             **{f"hop_{rate}": n for rate, n in paced_sizes.items()}}
    with one_bar("simulating the partners' year", 1) as (progress, task):
        parts = parts_of(sizes, seed=args.seed)
        progress.advance(task)
    main_bytes = sum(len(e.to_json_bytes()) for e in parts["http"].events) / len(parts["http"].events)
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    profiles = args.profile_dir / time.strftime("%Y%m%dT%H%M%S")
    if args.profile:
        profile_service(args.profile, profiles)
    hop = await hop_runs(bootstrap, prefix, parts["hop_warm"], parts["hop"],
                         {rate: parts[f"hop_{rate}"] for rate in args.rates}, args.seconds, args.drain_timeout)
    http = await ariane_http(scratch / "http", bootstrap, args.database_url, parts["http_warm"], parts["http"],
                             {rate: parts[f"http_{rate}"] for rate in args.rates}, args.seconds, args.drain_timeout,
                             args.http_sending)
    kafka = await ariane_kafka(scratch / "kafka", bootstrap, args.database_url, parts["kafka_warm"],
                               parts["kafka"], args.drain_timeout)
    hop_rate = hop["throughput"]["events_per_s"]
    hop_alone = hop["throughput_alone"]["events_per_s"]
    result: dict[str, Any] = {
        "events": args.events, "warm": args.warm, "people": parts["http"].people, "partitions": PARTITIONS,
        "mean_event_bytes": round(main_bytes), "database": (args.database_url or "sqlite").split(":", 1)[0],
        "raw_hop": hop, "http": http, "kafka": kafka, "services_runtime": services_runtime(),
        "ratio_http_to_raw_hop": ratio(http["throughput"]["events_per_s"], hop_rate),
        "ratio_kafka_to_raw_hop": ratio(kafka["throughput"]["events_per_s"], hop_rate),
        "ratio_http_to_raw_hop_alone": ratio(http["throughput"]["events_per_s"], hop_alone),
        "ratio_kafka_to_raw_hop_alone": ratio(kafka["throughput"]["events_per_s"], hop_alone),
        "machine": {"load_average_start": load_before},
    }
    if args.profile:
        result["profiled"] = {"service": args.profile, "files": sorted(str(p) for p in profiles.glob("*.prof"))}
        for path in sorted(profiles.glob("*.prof")):
            print(f"-- {path}\n{top(path)}")
    report(result)
    return result


def print_cpu(label: str, cpu: dict[str, Any] | None) -> None:
    if not cpu:
        return
    per_event = "  ".join(f"{name} {ms:.2f}" for name, ms in sorted(cpu["ms_per_event"].items(),
                                                                     key=lambda item: -item[1]))
    print(f"CPU ms per event ({label:<7}) {per_event}  (all: {cpu['share_of_cores']:.0%} of the cores)")


def report(result: dict[str, Any]) -> None:
    hop, http, kafka = result["raw_hop"], result["http"], result["kafka"]
    print(f"events (each way)          {result['events']:,} partner events, {result['people']:,} people, "
          f"{result['mean_event_bytes']} bytes on average; warmed with {result['warm']}; {result['database']}")
    runtime = result["services_runtime"]
    print(f"services ran on            {runtime['event_loop']} event loop, {runtime['http_parser']} HTTP parser")
    print(f"raw hop, fed as Ariane is  {hop['throughput']['events_per_s']:>10,.1f} events/s")
    print(f"raw hop alone (filled A)   {hop['throughput_alone']['events_per_s']:>10,.1f} events/s")
    sending = http["throughput"]["sending"]
    print(f"Ariane over HTTP ({sending:>7}) {http['throughput']['events_per_s']:>7,.1f} events/s   "
          f"ratio {result['ratio_http_to_raw_hop']:.4f} (hop alone: {result['ratio_http_to_raw_hop_alone']:.4f})")
    print(f"Ariane onto inbound topic  {kafka['throughput']['events_per_s']:>10,.1f} events/s   "
          f"ratio {result['ratio_kafka_to_raw_hop']:.4f} (hop alone: {result['ratio_kafka_to_raw_hop_alone']:.4f})")
    for way, run in (("raw hop", hop), ("HTTP", http), ("Kafka", kafka)):
        print_cpu(way, run["throughput"].get("cpu"))
        if way == "raw hop":
            continue
        for group, lag in run["throughput"].get("group_lag", {}).items():
            print(f"lag {group:<22} ({way:<5})  peak {lag['peak']:,}  mean {lag['mean']:,}  "
                  f"furthest behind in {lag['furthest_behind_share']:.0%} of the looks")
        print_health(way, run)
    for rate, lat in http["latency"].items():
        raw = hop["latency"][rate]
        print(f"{rate:>4}/s 202 → reporting     p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms  "
              f"({lat['visible']} of {lat['sent']} sent; HTTP {lat['http_statuses']}; 503s {lat['unavailable']})")
        post = lat["from_post"]
        print(f"{rate:>4}/s POST → reporting    p50 {post['p50_ms']} ms  p99 {post['p99_ms']} ms  max {post['max_ms']} ms")
        due = lat.get("from_due")
        if due:
            print(f"{rate:>4}/s due → reporting     p50 {due['p50_ms']} ms  p99 {due['p99_ms']} ms  max {due['max_ms']} ms  "
                  f"(sent on a {lat['schedule_seconds']} s schedule, last answer after {lat['answered_after_seconds']} s)")
        print_cpu(f"{rate}/s", lat.get("cpu_while_sending"))
        print_health(f"{rate}/s", lat)
        print(f"{rate:>4}/s raw hop             p50 {raw['p50_ms']} ms  p99 {raw['p99_ms']} ms  max {raw['max_ms']} ms  "
              f"({raw['n']} of {raw['sent']})")
    print(f"load average               start {result['machine']['load_average_start']}  end {load_average()}  "
          f"({machine()['nproc']} CPUs)")


def print_health(part: str, run: dict[str, Any]) -> None:
    for name, seen in run.get("loop_and_gc", {}).items():
        over = [f"{share:.1%}" if share is not None else "–"
                for share in (seen["lag_over_50ms"], seen["lag_over_100ms"])]
        passes = "  ".join(f"gen {g}: {c['passes']} ({c['over_10ms']} > 10 ms, {c['over_50ms']} > 50 ms)"
                           for g, c in seen["gc"].items())
        print(f"loop/gc {name:<8} ({part:<5})  loop lag > 50 ms {over[0]}, > 100 ms {over[1]}  collector {passes}")
    for label, m in run.get("metrics_scrape", {}).items():
        if m.get("n"):
            print(f"/metrics {label:<13} ({part:<5})  p50 {m['p50_ms']} ms  p99 {m['p99_ms']} ms  max {m['max_ms']} ms  "
                  f"({m['n']} scrapes, one a second)")
    control = run.get("health_control")
    if control and control.get("n"):
        print(f"control {'':<9} ({part:<5})  p50 {control['p50_ms']} ms  p99 {control['p99_ms']} ms  "
              f"max {control['max_ms']} ms  (the operations server alone in an idle process: the machine's share)")
    for name, h in run.get("health", {}).items():
        live = run.get("health_live", {}).get(name)
        if live:
            print(f"/health/live {name:<4} ({part:<5})  p50 {live['p50_ms']} ms  p99 {live['p99_ms']} ms  "
                  f"max {live['max_ms']} ms  (the floor: answered from memory, asked at the same moments)")
        print(f"/health {name:<9} ({part:<5})  p50 {h['p50_ms']} ms  p99 {h['p99_ms']} ms  max {h['max_ms']} ms  "
              f"({h['n']} probes, {h['failed']} failed)")
        ops = run.get("health_ops", {}).get(name)
        if ops:
            print(f"/health ops {name:<5} ({part:<5})  p50 {ops['p50_ms']} ms  p99 {ops['p99_ms']} ms  "
                  f"max {ops['max_ms']} ms  ({ops['n']} probes, {ops['failed']} failed; the operations port)")


async def measure(bootstrap: str, args: argparse.Namespace, scratch: Path) -> tuple[dict[str, Any], Path]:
    """The whole run on a broker, and its JSON result written to `args.out_dir`."""
    result = await main(bootstrap, args, scratch)
    path = write_result("pipeline", result, args.out_dir)
    print(f"result                     {path}")
    return result, path


def run(args: argparse.Namespace) -> tuple[dict[str, Any], Path]:
    with tempfile.TemporaryDirectory(prefix="ariane-bench-") as scratch:
        if os.environ.get("KAFKA_BOOTSTRAP"):
            return asyncio.run(measure(os.environ["KAFKA_BOOTSTRAP"], args, Path(scratch)))
        broker = LocalKafka(Path(scratch) / "kafka", die_with_parent=True)
        broker.start(timeout=BROKER_START_S)
        global BROKER_PID  # noqa: PLW0603 - one broker per run, named for the CPU accounting
        BROKER_PID = broker.pid
        try:
            return asyncio.run(measure(broker.bootstrap, args, Path(scratch)))
        finally:
            broker.stop()


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="partner events each way (HTTP, Kafka, raw hop)")
    parser.add_argument("--warm", type=int, default=200, help="events sent first, each way, and not timed")
    parser.add_argument("--rates", type=int, nargs="+", default=[20, 200], help="paced loads, events/s")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each paced load")
    parser.add_argument("--http-sending", choices=("backlog", "rounds"), default="backlog",
                        help="the timed HTTP part: each structure's backlog in order, POSTs one after the other per "
                             "structure (default); or rounds, every person's k-th event in round k, each round "
                             "waiting for the last answer of the one before (the way of runs before 2026-12-02)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--drain-timeout", type=float, default=900.0,
                        help="seconds to wait for the pipeline to come to rest before giving up")
    parser.add_argument("--database-url", default=os.environ.get("ARIANE_DATABASE_URL"),
                        help="a PostgreSQL server: a fresh database is made on it for each pipeline")
    parser.add_argument("--profile", choices=("intake", "referral", "followup", "reporting"),
                        help="run this service under cProfile (one profile per pipeline, top lines printed)")
    parser.add_argument("--profile-dir", type=Path, default=Path(__file__).resolve().parents[1] / ".var" / "profiles")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "results")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(arguments())
