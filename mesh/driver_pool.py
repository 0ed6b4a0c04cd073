"""The connections `Database`'s driver path (`fetch`, `run`, `unit`) keeps between
statements, borrowed from SQLAlchemy's pool of the same engine.

Taking a connection from SQLAlchemy's async pool and giving it back costs two
greenlet switches, a _ConnectionFairy with its weakref finalizer, checkout and checkin
events and a reset: about 33 µs of CPU on the development VM, where the statement's
own round trip on asyncpg costs about 23. The driver path takes a pool connection
once and keeps it checked out while it is idle, up to `keep` of them; taking and
giving back a kept one is a list pop and append.

One budget: a kept connection stays checked out of SQLAlchemy's pool, so the pool's
size and overflow (`mesh.db.pool_limits`) still bound every connection the process
holds, and `keep` is the pool size less two, so sessions always find connections.
More at once than `keep` are taken from the pool as before and given back to it
after the statement (an overflow connection is closed there, as always).

Health: a kept connection whose socket the server closed (a terminated backend, a
restart) is dropped when next taken, never handed out; one that fails mid-statement
(connection lost, cancelled) is invalidated, and every kept connection goes back to
the pool with it. A kept connection older than the engine's `pool_recycle` goes back
to the pool, which recycles it, as it would its own.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

SESSION_RESERVE = 2  # pool connections the driver path never keeps: sessions' share


class DriverConnections:
    """Pool connections (SQLAlchemy's _ConnectionFairy) kept for the driver path."""

    def __init__(self, engine: AsyncEngine, keep: int, recycle: float) -> None:
        self._engine = engine
        self.keep = max(keep, 0)
        self._recycle = recycle if recycle > 0 else float("inf")
        self._idle: list[tuple[Any, float]] = []  # (connection, when taken from the pool)

    async def take(self) -> tuple[Any, float]:
        """A connection for one unit of work, and when it left SQLAlchemy's pool."""
        while self._idle:
            fairy, since = self._idle.pop()
            if fairy.driver_connection.is_closed():
                await greenlet_spawn(fairy.invalidate)
                continue
            if time.monotonic() - since >= self._recycle:
                await greenlet_spawn(fairy.close)
                continue
            return fairy, since
        fairy = await self._engine.raw_connection()
        return fairy, time.monotonic()

    async def give_back(self, fairy: Any, since: float) -> None:
        """A connection back after its unit of work ended cleanly (nothing open)."""
        if len(self._idle) < self.keep:
            self._idle.append((fairy, since))
            return
        # Closing awaits asyncpg (an overflow connection): in SQLAlchemy's greenlet.
        await greenlet_spawn(fairy.close)

    async def discard(self, fairy: Any) -> None:
        """A connection in an unknown state (lost, cancelled midway): invalidated, and
        the kept ones go back to the pool too (the server may have gone away)."""
        await greenlet_spawn(fairy.invalidate)
        await self.release()

    async def release(self) -> None:
        """Every kept connection back to SQLAlchemy's pool (before disposing of it)."""
        idle, self._idle = self._idle, []
        for fairy, _ in idle:
            await greenlet_spawn(fairy.close)
