"""route(): the HANDLERS table decides which handler an event reaches; what it does not name is ignored."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from contracts.envelope import Envelope
from services.runtime.routing import route


class Asked(Envelope):
    pass


class Answered(Envelope):
    pass


class Unrelated(Envelope):
    pass


def event(cls: type[Envelope], n: int = 1) -> Envelope:
    return cls(id=f"ev-{n}", source="test", type=f"test.{cls.__name__.lower()}", subject="p-1",
               time=datetime(2026, 1, 5, 9, tzinfo=timezone.utc), data={})


class Journal:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object, object]] = []

    def handler(self, name: str):
        async def handle(ev: Envelope, uow: Any, deps: Any) -> None:
            self.calls.append((name, ev.id, uow, deps))

        return handle


UOW, DEPS = object(), object()


async def test_each_event_reaches_the_handler_its_type_names_with_uow_and_deps() -> None:
    journal = Journal()
    handle = route({Asked: journal.handler("on_asked"), Answered: journal.handler("on_answered")}, DEPS)
    await handle(event(Answered, 1), UOW)
    await handle(event(Asked, 2), UOW)
    assert journal.calls == [("on_answered", "ev-1", UOW, DEPS), ("on_asked", "ev-2", UOW, DEPS)]


async def test_a_type_the_table_does_not_name_is_ignored() -> None:
    journal = Journal()
    handle = route({Asked: journal.handler("on_asked")}, DEPS)
    assert await handle(event(Unrelated), UOW) is None
    assert journal.calls == []


async def test_otherwise_takes_only_the_types_the_table_does_not_name() -> None:
    journal = Journal()
    handle = route({Asked: journal.handler("on_asked")}, DEPS, otherwise=journal.handler("otherwise"))
    await handle(event(Unrelated, 1), UOW)
    await handle(event(Asked, 2), UOW)
    assert journal.calls == [("otherwise", "ev-1", UOW, DEPS), ("on_asked", "ev-2", UOW, DEPS)]
