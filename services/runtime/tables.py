"""The inbox and outbox tables that every service owns, named after the service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, MetaData, String, Table, Text, func


@dataclass(frozen=True)
class RuntimeTables:
    inbox: Table
    outbox: Table


def runtime_tables(metadata: MetaData, service: str) -> RuntimeTables:
    """Declare `<service>_inbox` and `<service>_outbox` on the service's own metadata.

    The inbox is the tracking record of eventsourcing's process applications: its primary key on the event id
    makes a second application of the same event impossible, because it is written in the handler's transaction.
    """
    inbox = Table(
        f"{service}_inbox",
        metadata,
        Column("event_id", String(160), primary_key=True),
        Column("topic", String(128), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    outbox = Table(
        f"{service}_outbox",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("topic", String(128), nullable=False),
        Column("key", String(160), nullable=False),
        Column("event_id", String(160), nullable=False),
        Column("event_type", String(128), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", Text, nullable=False, server_default="{}"),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    )
    return RuntimeTables(inbox=inbox, outbox=outbox)
