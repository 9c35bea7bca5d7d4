"""A lease has one holder at a time, on the database the instances share; it passes on when released or
when its holder's connection dies (PostgreSQL) or its process ends (SQLite)."""

from __future__ import annotations

import asyncio
import uuid

from services.runtime.db import make_engine
from services.runtime.leadership import Lease


async def test_one_holder_at_a_time_and_the_next_takes_over(database_url):
    first_engine, second_engine = make_engine(database_url), make_engine(database_url)
    name = f"relay-{uuid.uuid4().hex[:8]}"
    first, second = Lease(first_engine, name), Lease(second_engine, name)
    other = Lease(second_engine, f"{name}-other")
    try:
        assert await first.try_acquire() is True
        assert await second.try_acquire() is False, "a second holder while the first holds it"
        assert await other.try_acquire() is True, "leases of other names are independent"
        assert await first.still_held() is True

        stop = asyncio.Event()
        waiting = asyncio.create_task(second.acquire(stop))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the standby must wait while the leader holds the lease"
        await first.release()
        assert await asyncio.wait_for(waiting, timeout=10) is True
        assert second.held and not first.held
        assert await first.try_acquire() is False
    finally:
        for lease in (first, second, other):
            await lease.release()
        await first_engine.dispose()
        await second_engine.dispose()


async def test_a_standby_gives_up_waiting_when_asked_to_stop(database_url):
    engine = make_engine(database_url)
    name = f"clock-{uuid.uuid4().hex[:8]}"
    holder, standby = Lease(engine, name), Lease(engine, name, poll_s=0.05)
    try:
        assert await holder.try_acquire()
        stop = asyncio.Event()
        waiting = asyncio.create_task(standby.acquire(stop))
        await asyncio.sleep(0.2)
        stop.set()
        assert await asyncio.wait_for(waiting, timeout=5) is False
        assert not standby.held
    finally:
        await holder.release()
        await standby.release()
        await engine.dispose()
