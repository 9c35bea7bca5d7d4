"""What the followup integration tests share: send events as partners and referral would, tick the clock, wait.

`Followup` wraps a running followup service (real broker, real store): `send` puts an event on its topic,
`day(n)` ticks the clock to day n after `builders.START` and waits until followup has taken it, `until`
waits for a condition, and `get` reads the API with a structure's token.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from pathlib import Path

from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "followup"))
from builders import tick  # noqa: E402

from contracts import topics  # noqa: E402
from contracts.envelope import Envelope  # noqa: E402
from services.followup.app import definition  # noqa: E402
from services.followup.store import ClockRow  # noqa: E402
from services.runtime.credentials import CredentialsBook  # noqa: E402
from tests.support.kafka import admin_security  # noqa: E402
from tests.support.services import running_service  # noqa: E402
from tests.support.services import test_settings as make_settings  # noqa: E402


async def until(check: Callable[[], Awaitable[Any]], deadline_s: float = 30.0) -> Any:
    end = time.monotonic() + deadline_s
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < end, "deadline passed"
        await asyncio.sleep(0.05)


class Followup:
    def __init__(self, app, client, producer: AIOKafkaProducer, prefix: str, tokens: Mapping[str, str]) -> None:
        self.app, self.client, self.producer, self.prefix, self.tokens = app, client, producer, prefix, tokens
        self.ctx = app.state.ctx

    async def send(self, event: Envelope, topic: str = topics.INTAKE) -> None:
        await self.producer.send_and_wait(self.prefix + topic, event.to_json_bytes(), key=event.subject.encode())

    async def day(self, n: int) -> None:
        t = tick(n)
        await self.send(t, topics.CLOCK)

        async def ticked() -> bool:
            async with self.ctx.session_factory() as s:
                row = await s.get(ClockRow, 1)
                return row is not None and row.today >= t.data.day

        await until(ticked)

    async def get(self, path: str, as_structure: str | None, **params: Any):
        headers = {"Authorization": f"Bearer {self.tokens[as_structure]}"} if as_structure else {}
        return await self.client.get(path, params=params, headers=headers)

    async def json(self, path: str, as_structure: str, **params: Any) -> dict[str, Any]:
        answer = await self.get(path, as_structure, **params)
        assert answer.status_code == 200, answer.text
        return answer.json()


COORDINATOR = "coordination_territoriale"
AUDITOR = "auditor"  # the name an auditor's key goes by in `Followup.tokens`


@asynccontextmanager
async def followup(kafka_bootstrap: str, topic_prefix: str, database_url: str, tmp_path: Path,
                   structures: Iterable[str]) -> AsyncIterator[Followup]:
    """A followup service and a credentials book with one key per name in `structures`: the territory
    coordinator's id gets a coordinator key, `AUDITOR` an auditor's, any other structure a counsellor's."""
    book = CredentialsBook(tmp_path / "credentials.json")
    tokens = {}
    for name in structures:
        role = "coordinator" if name == COORDINATOR else "auditor" if name == AUDITOR else "counsellor"
        tokens[name] = book.issue(role, "angers-loire-metropole" if name == AUDITOR else name).token
    settings = make_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix,
                             credentials_file=book.path)
    async with running_service(definition(), settings) as (app, client):
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **admin_security(kafka_bootstrap),
                                    enable_idempotence=True)
        await producer.start()
        try:
            yield Followup(app, client, producer, topic_prefix, tokens)
        finally:
            await producer.stop()
