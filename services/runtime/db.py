"""Async engines and sessions: SQLite files by default, PostgreSQL when the URL says so."""

from __future__ import annotations

import asyncio

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util.concurrency import await_
from sqlmodel.ext.asyncio.session import AsyncSession


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# Switching a fresh file to WAL needs it alone for an instant. When instances open the same new file at once,
# SQLite answers "database is locked" at once, without waiting out busy_timeout; the switch is tried again
# (a file already in WAL answers at once, so this waits only at first start).
_PRAGMA_ATTEMPTS, _PRAGMA_PAUSE_S = 100, 0.1
# How long a writer waits for SQLite's write lock (busy_timeout), or in this process for the one write connection.
_LOCK_WAIT_S = 30
# The read engine's connections, all kept open (make_read_engine): on SQLite, and on PostgreSQL (a server process each).
READ_CONNECTIONS, PG_READ_CONNECTIONS = 12, 5


def _execute_pragma(cursor, pragma: str) -> None:  # noqa: ANN001 - the driver's cursor
    for attempt in range(1, _PRAGMA_ATTEMPTS + 1):
        try:
            cursor.execute(pragma)
            return
        except Exception as exc:  # the driver's OperationalError, whichever adapter wraps it
            if "database is locked" not in str(exc) or attempt == _PRAGMA_ATTEMPTS:
                raise
            await_(asyncio.sleep(_PRAGMA_PAUSE_S))  # connect runs in SQLAlchemy's greenlet: yield to the loop


def _sqlite_engine(url: str, pragmas: tuple[str, ...], begin: str, **pool: int) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": _LOCK_WAIT_S}, **pool)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # The driver's own implicit transactions break SAVEPOINT; let SQLAlchemy emit BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            _execute_pragma(cursor, pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        conn.exec_driver_sql(begin)

    return engine


def make_engine(url: str) -> AsyncEngine:
    """The engine a service writes with. On SQLite its transactions begin IMMEDIATE: a writer takes the lock
    up front rather than failing half-way when a read transaction has to become a write one.

    On SQLite it has one connection: a file has one writer at a time anyway, and the writers of one process (a
    consumed batch, an admission group, the relay marking what it sent) then queue for that connection in the
    order they came, each taking it the moment the one before gives it back. With a connection each, they
    queued in SQLite's busy handler, which sleeps between tries (up to 100 ms at a time): under a paced load
    the relay's marking waited p50 59 ms and p90 0.84 s for a lock that was free most of that time. Another
    process on the same file (a second instance) is still waited for by the busy handler."""
    if not is_sqlite(url):
        return create_async_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
    return _sqlite_engine(url, ("PRAGMA journal_mode=WAL", f"PRAGMA busy_timeout={_LOCK_WAIT_S * 1000}",
                                "PRAGMA synchronous=NORMAL"),
                          "BEGIN IMMEDIATE", pool_size=1, max_overflow=0, pool_timeout=_LOCK_WAIT_S)


def make_read_engine(url: str) -> AsyncEngine:
    """An engine for reads only: health checks, pending counts, read APIs.

    On SQLite its transactions begin DEFERRED and its connections are query-only, so under WAL a read never
    queues for the single write lock behind a consumer's batch. On PostgreSQL it is a small pool of its own.

    Its connections are kept, never opened for one read and closed after: at most READ_CONNECTIONS on SQLite,
    PG_READ_CONNECTIONS on PostgreSQL (as many as before, 2 kept and 3 more opened when needed), and a read
    beyond them waits for one given back (a wait on the event loop; no read holds one while it takes another).
    With SQLAlchemy's default on SQLite (5 kept, 10 more opened when needed and closed when given back), intake
    under a 300-event backlog then a paced 500 events/s (each POST reads its key and its outbox rows) opened
    1,160-1,380 connections: each a new driver thread, whose start the event loop waits for (the loop-stall
    tracer found it held there), then the file opened and its pragmas run; 12 kept and 8 more when needed, still
    940. Twelve kept, none more: fewer than 20 in the same runs. On PostgreSQL (2 kept, 3 more when needed)
    intake opened 340-460, each a new server process; 5 kept, none more: fewer than 20. The latency figures
    of those PostgreSQL runs did not move beyond their noise.

    On PostgreSQL each read statement runs alone (autocommit): no BEGIN before it, no ROLLBACK when the
    connection is given back, two round trips fewer per read, each a wait for the server and then for a turn of
    the event loop. A read sees no less consistency for it: at PostgreSQL's READ COMMITTED, as before, each
    statement of a transaction already took its own snapshot, and no read here asks for more. In four alternated
    pairs (a 300-event backlog, then a paced 500 events/s for 30 s), intake's key lookup before a POST took 75-100
    ms (medians) instead of 123-158 ms in every pair, and the wait for its events on Kafka 93-171 ms instead of
    168-190; the end-to-end figures did not separate beyond their noise (bench/README.md, "the first stop of
    2026-12-03"). The pre-ping stays: after a server restart the first read is not an error."""
    if not is_sqlite(url):
        return create_async_engine(url, pool_size=PG_READ_CONNECTIONS, max_overflow=0, pool_pre_ping=True,
                                   pool_timeout=_LOCK_WAIT_S, isolation_level="AUTOCOMMIT")
    return _sqlite_engine(url, (f"PRAGMA busy_timeout={_LOCK_WAIT_S * 1000}", "PRAGMA query_only=ON"), "BEGIN",
                          pool_size=READ_CONNECTIONS, max_overflow=0, pool_timeout=_LOCK_WAIT_S)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
