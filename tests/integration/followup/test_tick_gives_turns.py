"""A day tick decides again for everyone due in one handler: while it does, the rest of the service's process
(/health, /metrics, the relay), on the same event loop, still gets turns, and what the tick decides is the same.

Through followup's own handlers and the runtime's processor on a real store, no broker."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

from prometheus_client import CollectorRegistry
sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "followup"))
from builders import entered, registered, tick  # noqa: E402

from contracts import topics  # noqa: E402
from services.followup import handlers  # noqa: E402
from services.followup.app import definition  # noqa: E402
from services.runtime.db import make_engine, make_session_factory  # noqa: E402
from services.runtime.metrics import RuntimeMetrics  # noqa: E402
from services.runtime.migrate import upgrade_to_head  # noqa: E402
from services.runtime.processor import EventProcessor  # noqa: E402
from services.runtime.records import Record  # noqa: E402
from services.runtime.settings import RuntimeSettings  # noqa: E402
from tests.support.turns import OtherWork, spin  # noqa: E402

PEOPLE = 120
IAE, SIAE = "iae_regie", "siae_regie_quartiers"


async def test_a_tick_that_wakes_everyone_lets_the_rest_of_the_process_run(database_url_factory, monkeypatch):  # noqa: ANN001
    service = definition()
    engine = make_engine(await database_url_factory("followup"))
    try:
        await upgrade_to_head(engine, "followup", service.metadata, service.versions_dir)
        factory = make_session_factory(engine)
        settings = RuntimeSettings()
        ctx = SimpleNamespace(registry=CollectorRegistry(), session_factory=factory, engine=engine, name="followup",
                              settings=settings, read_session_factory=factory)
        wiring = await service.start(ctx)
        processor = EventProcessor("followup", factory, service.tables, wiring.handler,
                                   RuntimeMetrics.create("followup", CollectorRegistry()), settings)
        offset = 0

        async def feed(*events) -> None:  # noqa: ANN002
            nonlocal offset
            records = []
            for e in events:
                topic = topics.CLOCK if e.type.endswith("day_started") else topics.INTAKE
                records.append(Record(topic, 0, offset, e.subject.encode(), e.to_json_bytes()))
                offset += 1
            await processor.process_batch(records)

        await feed(tick(0))
        # Everyone registered and entered the same IAE dispositif on the opening day.
        await feed(*[e for n in range(PEOPLE) for e in (registered(f"P{n:03d}", 0),
                                                         entered(f"P{n:03d}", 0, IAE, SIAE))])

        # Each person's decision made to cost 1 ms more, as on a large territory; the other task's turns so far
        # are noted at each.
        seen: list[int] = []
        decide_again = handlers._apply

        async with OtherWork() as other:  # what /health does: answer whenever the loop lets it
            async def slow_apply(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
                seen.append(other.turns)
                spin(0.001)
                await decide_again(*args, **kwargs)

            monkeypatch.setattr(handlers, "_apply", slow_apply)
            await feed(tick(730))  # two years in the dispositif without news: everyone is due that day
    finally:
        await engine.dispose()
    assert len(seen) == PEOPLE  # everyone was decided again by the tick
    # Before, the tick's fold ran in one stretch: every person decided saw the same count of the other's turns.
    assert len(set(seen)) > 5, len(set(seen))
