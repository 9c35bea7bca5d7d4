"""Alembic migrations per service: one version table and one versions folder per service."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.runtime.leadership import lock_key

SCRIPT_LOCATION = Path(__file__).with_name("migrations")


def alembic_config(service: str, metadata: MetaData, versions_dir: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(versions_dir))
    cfg.attributes["target_metadata"] = metadata
    cfg.attributes["version_table"] = f"alembic_version_{service}"
    return cfg


async def upgrade_to_head(engine: AsyncEngine, service: str, metadata: MetaData, versions_dir: Path) -> None:
    cfg = alembic_config(service, metadata, versions_dir)

    def _upgrade(sync_connection) -> None:  # noqa: ANN001
        cfg.attributes["connection"] = sync_connection
        command.upgrade(cfg, "head")

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Instances of one service starting together on one database migrate one at a time: the others
            # wait here, then find the schema at head. (On SQLite the write lock already serialises them.)
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(f"migrate-{service}")})
        await connection.run_sync(_upgrade)


def make_revision(service: str, metadata: MetaData, versions_dir: Path, message: str) -> None:
    """Autogenerate the next revision of a service against a scratch SQLite database at head."""
    versions_dir.mkdir(parents=True, exist_ok=True)
    cfg = alembic_config(service, metadata, versions_dir)
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/scratch.db")
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
            command.revision(cfg, message=message, autogenerate=True, rev_id=_next_rev_id(versions_dir, service))
        engine.dispose()


def _next_rev_id(versions_dir: Path, service: str) -> str:
    existing = sorted(versions_dir.glob(f"{service}_*.py"))
    return f"{service}_{len(existing) + 1:04d}"
