"""One leader among the instances of a service, decided by the database they share, not by a convention.

What needs a single writer (the outbox relay of a service, the day clock) runs only while its instance holds
the lease; the other instances stand by and take over when the holder dies:

- PostgreSQL: a session-level advisory lock on a connection of its own. The server releases it the moment
  that connection dies (process killed, network gone), so a crashed leader never blocks the others.
- SQLite: an exclusive `flock` on a file beside the database. The kernel releases it when the process dies.
  Instances sharing one SQLite file are on one machine, so a local lock is exactly the right scope.

The lease is checked before each round of work (`still_held`), so a leader that lost its database connection
stops acting before the next round. Kafka's transactional fencing remains the last guard against a paused
"zombie" leader that wakes up after another took over: every instance of a service uses the same
transactional id, so the newer leader's producer fences the old one.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import zlib
from pathlib import Path

import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger("ariane.leadership")


def lock_key(name: str) -> int:
    """A stable signed 32-bit advisory lock key for a lease name."""
    return zlib.crc32(f"ariane-lease-{name}".encode()) - 2**31


class Lease:
    """`await lease.acquire(stop)` waits until this instance leads (or stop is set); `release()` gives it up."""

    def __init__(self, engine: AsyncEngine, name: str, *, poll_s: float = 1.0) -> None:
        self.engine = engine
        self.name = name
        self.poll_s = poll_s
        self._conn: AsyncConnection | None = None
        self._fd: int | None = None
        self.held = False

    @property
    def _sqlite_lock_path(self) -> Path:
        database = make_url(self.engine.url).database or ""
        if not database or database == ":memory:":
            raise ValueError("a lease needs a database file or a server")
        return Path(f"{database}.{self.name}.lease")

    async def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            conn = await self.engine.connect()
            try:
                got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(self.name)}))
                if got.scalar_one():
                    await conn.commit()  # end the implicit transaction; the session-level lock stays
                    self._conn, self.held = conn, True
                    return True
            except BaseException:
                await conn.close()
                raise
            await conn.close()
            return False
        fd = os.open(self._sqlite_lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd, self.held = fd, True
        return True

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until this instance holds the lease; False if `stop` was set first."""
        announced = False
        while not stop.is_set():
            try:
                if await self.try_acquire():
                    log.info("lease_acquired", lease=self.name)
                    return True
            except Exception as exc:  # noqa: BLE001 - the database may be restarting: stand by, try again
                log.warning("lease_check_failed", lease=self.name, error=f"{type(exc).__name__}: {exc}"[:200])
            if not announced:
                log.info("lease_standby", lease=self.name, detail="another instance leads; standing by")
                announced = True
            try:
                await asyncio.wait_for(stop.wait(), self.poll_s)
            except TimeoutError:
                pass
        return False

    async def still_held(self) -> bool:
        """True while the lease is ours: on PostgreSQL, while the connection that holds the lock is alive."""
        if not self.held:
            return False
        if self._conn is None:
            return True  # a flock lasts as long as this process
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception:  # noqa: BLE001 - the lock died with its connection
            await self.release()
            log.warning("lease_lost", lease=self.name)
            return False

    async def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(self.name)})
                await conn.commit()
            except Exception:  # noqa: BLE001 - closing the connection releases the lock anyway
                pass
            try:
                await conn.close()
            except Exception:  # noqa: BLE001
                pass
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        self.held = False
