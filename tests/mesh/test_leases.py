"""mesh/leases.py on SQLite and PostgreSQL: one holder at a time, renewal, takeover
after expiry or release, and a job that loses its lease is stopped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import MetaData, select, update

from mesh.db import Database
from mesh.leases import Lease, LeaseLost, _db_now, lease_table

metadata = MetaData()
LEASES = lease_table(metadata)


@pytest.fixture
async def dbs(database_url: str) -> AsyncIterator[list[Database]]:
    """Three Database objects on one database: three replicas' own connection pools."""
    found = [Database("order", database_url) for _ in range(3)]
    async with found[0].engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield found
    for db in found:
        await db.dispose()


def leases(dbs: list[Database], ttl: float, name: str = "sweeper") -> list[Lease]:
    return [Lease(db, LEASES, name, ttl=ttl, holder=f"replica-{i}") for i, db in enumerate(dbs)]


async def holder(db: Database, name: str = "sweeper") -> str | None:
    async with db.session() as s:
        return await s.scalar(select(LEASES.c.holder).where(LEASES.c.name == name))


async def test_one_holder_at_a_time_even_when_all_try_at_once(dbs: list[Database]) -> None:
    for _ in range(5):  # several rounds of a race for a fresh lease
        name = f"race-{_}"
        group = leases(dbs * 3, ttl=30, name=name)  # nine contenders, three pools
        for i, lease in enumerate(group):
            lease.holder = f"contender-{i}"
        won = await asyncio.gather(*(lease.acquire() for lease in group))
        assert sum(won) == 1, won
        winner = group[won.index(True)]
        assert await holder(dbs[0], name) == winner.holder
        assert winner.held and not any(x.held for x in group if x is not winner)


async def test_renewed_by_its_holder_refused_to_others_until_it_expires(
    dbs: list[Database],
) -> None:
    a, b, _ = leases(dbs, ttl=0.6)
    assert await a.acquire()
    for _ in range(3):  # renewals keep it: b is refused throughout
        await asyncio.sleep(0.25)
        assert await a.acquire()
        assert not await b.acquire()
    assert await holder(dbs[0]) == "replica-0"
    await asyncio.sleep(0.9)  # a stopped renewing (died): b takes it over after the ttl
    assert not a.held
    assert await b.acquire()
    assert await holder(dbs[0]) == "replica-1"
    assert not await a.acquire()  # and a, back, does not get it back


async def test_release_hands_it_over_at_once(dbs: list[Database]) -> None:
    a, b, c = leases(dbs, ttl=60)
    assert await a.acquire()
    assert not await b.acquire()
    await c.release()  # not the holder: changes nothing
    assert not await b.acquire()
    await a.release()
    assert not a.held
    assert await b.acquire()
    assert await holder(dbs[0]) == "replica-1"


async def test_expiry_is_ttl_ahead_on_the_databases_clock(dbs: list[Database]) -> None:
    a, b, _ = leases(dbs, ttl=5)
    assert await a.acquire()
    async with dbs[0].session() as s:
        expires = await s.scalar(select(LEASES.c.expires_at))
        now = await s.scalar(select(_db_now(dbs[0].dialect)))
    assert expires is not None and now is not None
    assert 4.0 < float(expires) - float(now) <= 5.0  # seconds since the epoch, the DB's
    # Another holder sees it expired exactly when the database's clock passes it.
    async with dbs[1].transaction() as s:
        await s.execute(update(LEASES).values(expires_at=float(now) - 0.001))
    assert await b.acquire()


async def test_a_long_job_keeps_its_lease_and_a_lost_lease_stops_the_job(
    dbs: list[Database],
) -> None:
    a, b, _ = leases(dbs, ttl=0.6)
    assert await a.acquire()
    # A job three times as long as the ttl: renewed while it runs, never lost.
    assert await a.run(asyncio.sleep(1.8, result="done")) == "done"
    assert not await b.acquire()

    # The lease taken from under a running job (another holder written into the row):
    # the next renewal fails and the job is cancelled.
    cancelled = asyncio.Event()

    async def job() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def steal() -> None:
        await asyncio.sleep(0.1)
        async with dbs[1].transaction() as s:
            await s.execute(update(LEASES).values(holder="replica-1"))

    stealer = asyncio.create_task(steal())
    with pytest.raises(LeaseLost):
        await asyncio.wait_for(a.run(job()), 5)
    await stealer
    assert cancelled.is_set() and not a.held
    assert await holder(dbs[0]) == "replica-1"
