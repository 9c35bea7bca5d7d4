"""A new, empty PostgreSQL database on a server the caller names: one per test, story or benchmark pipeline,
so that runs sharing a server never see each other's tables."""

from __future__ import annotations


async def create_postgres_database(server_url: str, name: str) -> str:
    """Create database `name` on the server of `server_url`; the same URL pointing at the new database."""
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
