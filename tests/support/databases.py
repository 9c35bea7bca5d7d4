"""A fresh, empty database per test: a SQLite file by default, PostgreSQL when ARIANE_DATABASE_URL says so."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from local.databases import create_postgres_database
from services.runtime.db import make_engine


def _postgres_server_url() -> str | None:
    url = os.environ.get("ARIANE_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture
def database_backend() -> str:
    return "postgresql" if _postgres_server_url() else "sqlite"


@pytest.fixture
async def database_url(tmp_path) -> str:  # noqa: ANN001
    """URL of a new empty database for this test alone."""
    server = _postgres_server_url()
    if server is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return await create_postgres_database(server, f"ariane_test_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def database_url_factory(tmp_path):  # noqa: ANN001, ANN201
    """Make several fresh databases in one test (one per service, for instance)."""

    async def make(name: str) -> str:
        server = _postgres_server_url()
        if server is None:
            return f"sqlite+aiosqlite:///{tmp_path / (name + '.db')}"
        return await create_postgres_database(server, f"ariane_test_{name}_{uuid.uuid4().hex[:8]}")

    return make


@asynccontextmanager
async def engine_with_tables(url: str, metadata: MetaData) -> AsyncIterator[AsyncEngine]:
    """A service's write engine on `url`, with `metadata`'s tables created; disposed at the end."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()
