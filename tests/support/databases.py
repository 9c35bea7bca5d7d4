"""A fresh, empty database per test: a SQLite file by default, PostgreSQL when ARIANE_DATABASE_URL says so."""

from __future__ import annotations

import os
import uuid

import pytest


def _postgres_server_url() -> str | None:
    url = os.environ.get("ARIANE_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


async def _create_postgres_database(server_url: str, name: str) -> str:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    conn = await asyncpg.connect(user=url.username, password=url.password, host=url.host or "127.0.0.1",
                                 port=url.port or 5432, database=url.database or "postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def database_backend() -> str:
    return "postgresql" if _postgres_server_url() else "sqlite"


@pytest.fixture
async def database_url(tmp_path) -> str:  # noqa: ANN001
    """URL of a new empty database for this test alone."""
    server = _postgres_server_url()
    if server is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return await _create_postgres_database(server, f"ariane_test_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def database_url_factory(tmp_path):  # noqa: ANN001, ANN201
    """Make several fresh databases in one test (one per service, for instance)."""

    async def make(name: str) -> str:
        server = _postgres_server_url()
        if server is None:
            return f"sqlite+aiosqlite:///{tmp_path / (name + '.db')}"
        return await _create_postgres_database(server, f"ariane_test_{name}_{uuid.uuid4().hex[:8]}")

    return make
