"""Instances of a service starting together on one fresh database: both migrate, neither fails."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from services.followup.store import metadata
from services.followup.app import VERSIONS
from services.runtime.db import make_engine
from services.runtime.migrate import upgrade_to_head


async def test_two_instances_migrating_at_once_both_start(database_url):
    engines = [make_engine(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade_to_head(e, "followup", metadata, VERSIONS) for e in engines))
        async with engines[0].connect() as conn:
            versions = (await conn.execute(text("SELECT count(*) FROM alembic_version_followup"))).scalar_one()
        assert versions == 1
    finally:
        for engine in engines:
            await engine.dispose()
