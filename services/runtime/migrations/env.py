"""Alembic environment shared by every service: the service passes its metadata and connection in."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
target_metadata = config.attributes["target_metadata"]

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    version_table=config.attributes["version_table"],
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
