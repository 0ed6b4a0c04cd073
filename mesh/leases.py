"""Leases: background work that must run on ONE replica of a service at a time.

A service running as several replicas (registry: CLEANSE_<NAME>_REPLICAS) shares one
database; a job that must not run twice at once (a sweeper whose steps call other
services) takes a lease in that database first:

    LEASES = lease_table(Base.metadata)                      # models.py (+ a migration)
    lease = Lease(db, LEASES, "order.sweeper", ttl=90)
    if await lease.acquire():                                # taken, or renewed
        await lease.run(sweep())                             # renewed while it runs
    ...
    await lease.release()                                    # at shutdown

The table holds one row per lease: `name`, `holder` (the process holding it) and
`expires_at`. Taking and renewing are ONE statement, an upsert that writes only when
the row is missing, is this holder's, or has expired:

    INSERT INTO leases (name, holder, expires_at) VALUES (:name, :me, now + ttl)
    ON CONFLICT (name) DO UPDATE SET holder = :me, expires_at = now + ttl
    WHERE leases.holder = :me OR leases.expires_at < now
    RETURNING holder

so two replicas racing for it cannot both win (PostgreSQL: the row lock of the
conflicting insert; SQLite: one writer at a time). "now" is the DATABASE's clock
(PostgreSQL clock_timestamp(), SQLite julianday('now')), in seconds since the
epoch: replicas on machines whose clocks disagree still agree on expiry. A holder
that dies keeps the lease until it expires; another replica takes it over at its
next attempt after that. `release()` hands it over at once (clean shutdown).

`run(job)` renews the lease every ttl/3 while the job runs and cancels the job when a
renewal fails (lost to another replica, or the database unreachable past the
point where the lease may have expired), so a job never outlives its lease by more
than one renewal interval. The gauge `lease_held{service,lease}` is 1 in the
process holding the lease.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from sqlalchemy import Column, Float, MetaData, String, Table, extract, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from mesh import registry
from mesh.db import Database
from observability.metrics import gauge

log = logging.getLogger("mesh.leases")

T = TypeVar("T")

HELD = gauge(
    "lease_held", "1 while this process holds the lease (mesh/leases.py).", ["service", "lease"]
)


class LeaseLost(Exception):
    """The lease could not be renewed while its job ran: the job was cancelled."""


def lease_table(metadata: MetaData, name: str = "leases") -> Table:
    """A service's leases: one row per lease name."""
    return Table(
        name,
        metadata,
        Column("name", String(100), primary_key=True),
        Column("holder", String(200), nullable=False),
        # Seconds since the epoch on the database's clock.
        Column("expires_at", Float, nullable=False),
    )


def default_holder(env: dict[str, str] | None = None) -> str:
    """Who this process is: service#replica@host/pid/random (unique per start)."""
    env = dict(os.environ) if env is None else env
    service = env.get("CLEANSE_SERVICE_NAME", "") or "process"
    who = registry.replica_name(service, registry.replica_index(env))
    return f"{who}@{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


def _db_now(dialect: str) -> ColumnElement[Any]:
    """The database's clock in seconds since the epoch."""
    if dialect == "postgresql":
        return extract("epoch", func.clock_timestamp())
    return (func.julianday("now") - 2440587.5) * 86400.0


class Lease:
    def __init__(
        self,
        db: Database,
        table: Table,
        name: str,
        *,
        ttl: float = 60.0,
        holder: str | None = None,
        service: str | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError("a lease's ttl must be positive")
        self.db = db
        self.table = table
        self.name = name
        self.ttl = ttl
        self.holder = holder or default_holder()
        self._gauge = HELD.labels(service or db.service, name)
        self._valid_until = 0.0  # monotonic: when the lease may have expired, at the latest

    @property
    def held(self) -> bool:
        """This process holds the lease, as far as it knows (until its own deadline)."""
        return time.monotonic() < self._valid_until

    def _upsert(self) -> Any:
        t = self.table
        dialect = self.db.dialect
        now = _db_now(dialect)
        ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = ins(t).values(name=self.name, holder=self.holder, expires_at=now + self.ttl)
        return stmt.on_conflict_do_update(
            index_elements=[t.c.name],
            set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
            where=or_(t.c.holder == self.holder, t.c.expires_at < now),
        ).returning(t.c.holder)

    async def acquire(self) -> bool:
        """Take the lease, or renew it when this process holds it; True when it is
        this process's for `ttl` seconds from now. Database errors propagate."""
        sent = time.monotonic()
        rows = await self.db.execute(self._upsert())
        if not rows:
            self._lost()
            return False
        if not self.held:
            log.info("lease taken", extra={"lease": self.name, "holder": self.holder})
        self._valid_until = sent + self.ttl
        self._gauge.set(1)
        return True

    def _lost(self) -> None:
        if self.held:
            log.warning("lease lost", extra={"lease": self.name, "holder": self.holder})
        self._valid_until = 0.0
        self._gauge.set(0)

    async def release(self) -> None:
        """Give the lease up now (it expires at once), if this process holds it."""
        t = self.table
        self._valid_until = 0.0
        self._gauge.set(0)
        await self.db.execute(
            update(t).where(t.c.name == self.name, t.c.holder == self.holder).values(expires_at=0.0)
        )

    async def run(self, job: Awaitable[T]) -> T:
        """Run `job` while holding the lease (take it first with `acquire`): renewed
        every ttl/3; when a renewal fails, the job is cancelled and LeaseLost raised."""
        task = asyncio.ensure_future(job)
        try:
            while True:
                left = self._valid_until - time.monotonic()
                if left <= 0:  # not renewed in time: another replica may hold it now
                    self._lost()
                    raise LeaseLost(f"lease {self.name!r} expired while its job ran")
                done, _ = await asyncio.wait({task}, timeout=min(self.ttl / 3, left))
                if done:
                    return task.result()
                try:
                    left = max(self._valid_until - time.monotonic(), 0.001)
                    async with asyncio.timeout(left):
                        renewed = await self.acquire()
                except Exception:  # the database: tried again while the lease lasts
                    log.warning("lease renewal failed", extra={"lease": self.name}, exc_info=True)
                    continue
                if not renewed:
                    raise LeaseLost(f"lease {self.name!r} lost while its job ran")
        finally:
            if not task.done():
                task.cancel()
                await asyncio.wait({task})
