"""A service's SQL statements per consumed event, by kind: what its apply path sends for a simulated territory.

    python bench/followup_statements.py [--service followup] [--people 200] [--days 90] [--batch 500]

Named for the first service it counted; `--service` takes any that bench/apply_profile.py knows (followup,
referral, reporting). The same feed as bench/apply_profile.py (a simulated year through the service's own
handlers and the runtime's processor into a fresh SQLite store, the day's tick alone, then the day's events in
batches of `--batch`), with every statement counted at the driver and grouped by its verb and table, so that a
change of the apply path shows which statements it removed. Counts, not times: the machine's load does not
move them.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def kind_of(statement: str) -> str:
    """'SELECT followup_person', 'INSERT ariane_outbox', 'SAVEPOINT'... (the verb, then the first table named)."""
    words = statement.split(None, 1)
    verb = words[0].upper() if words else "?"
    table = _TABLE.search(statement)
    return f"{verb} {table.group(1)}" if table and verb in {"SELECT", "INSERT", "UPDATE", "DELETE"} else verb


async def run(service_name: str, people: int, days: int, batch: int) -> tuple[int, Counter[str]]:
    from prometheus_client import CollectorRegistry
    from sqlalchemy import event

    from bench.apply_profile import _definition
    from contracts import topics
    from services.runtime.db import make_engine, make_session_factory
    from services.runtime.metrics import RuntimeMetrics
    from services.runtime.migrate import upgrade_to_head
    from services.runtime.processor import EventProcessor
    from services.runtime.records import Record
    from services.runtime.settings import RuntimeSettings
    from simulator.year import simulate

    year = simulate("territory", people=people, seed=7, days=days)
    service = _definition(service_name)
    settings = RuntimeSettings()
    kinds: Counter[str] = Counter()
    applied = 0
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(scratch) / f'{service_name}.db'}")
        try:
            if service.versions_dir is None:
                async with engine.begin() as conn:
                    await conn.run_sync(service.metadata.create_all)
            else:
                await upgrade_to_head(engine, service_name, service.metadata, service.versions_dir)

            @event.listens_for(engine.sync_engine, "before_cursor_execute")
            def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
                kinds[kind_of(statement)] += 1

            factory = make_session_factory(engine)
            registry = CollectorRegistry()
            ctx = SimpleNamespace(registry=registry, session_factory=factory, engine=engine, name=service_name,
                                  settings=settings, read_session_factory=factory)
            wiring = await service.start(ctx)
            processor = EventProcessor(service_name, factory, service.tables, wiring.handler,
                                       RuntimeMetrics.create(service_name, registry), settings)
            offset = 0
            for day in year.stream():
                records = [Record(topics.CLOCK, 0, offset, b"clock", day.tick.to_json_bytes())]
                records += [Record(topics.INTAKE, 1, offset + 1 + n, e.subject.encode(), e.to_json_bytes())
                            for n, e in enumerate(day.events)]
                offset += len(records)
                for chunk in [records[:1]] + [records[i:i + batch] for i in range(1, len(records), batch)]:
                    await processor.process_batch(chunk)
                applied += len(records)
        finally:
            await engine.dispose()
    return applied, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default="followup", choices=("followup", "referral", "reporting"))
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    applied, kinds = asyncio.run(run(args.service, args.people, args.days, args.batch))
    total = sum(kinds.values())
    print(f"{applied} events and ticks, {total} statements, {total / applied:.2f} per event")
    for kind, n in kinds.most_common():
        print(f"  {n / applied:6.2f}  {n:7d}  {kind}")


if __name__ == "__main__":
    main()
