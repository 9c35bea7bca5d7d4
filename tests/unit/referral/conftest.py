"""What referral's handler tests share: an empty referral store of their own (SQLite, every table created)."""

from __future__ import annotations

import pytest

from services.referral import store
from services.runtime.db import make_engine, make_session_factory


@pytest.fixture
async def session_factory(tmp_path):  # noqa: ANN001, ANN201
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'referral.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(store.metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()
