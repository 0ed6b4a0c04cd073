"""Database.unit() and Database.reads(): units of work of Core statements, on
PostgreSQL straight on the driver, on SQLite through a session; the same outcomes on
both: committed together or not at all, constraint violations as IntegrityError,
row locks that serialize concurrent writers, after-commit callbacks only on commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError, InvalidRequestError

from mesh.db import Database, after_commit
from tests.conftest import open_database

meta = MetaData()
counters = Table(
    "counters",
    meta,
    Column("id", String, primary_key=True),
    Column("n", Integer, nullable=False),
)
ADD = insert(counters).values(id=bindparam("id"), n=bindparam("n"))
LOCKED = select(counters.c.n).where(counters.c.id == bindparam("key")).with_for_update()
SET = sa_update(counters).where(counters.c.id == bindparam("key")).values(n=bindparam("to"))
ALL = select(counters.c.id, counters.c.n).order_by(counters.c.id)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url, "unittest", meta) as db:
        yield db


async def rows(db: Database) -> list[tuple[str, int]]:
    async with db.reads() as u:
        return [(r.id, r.n) for r in await db.run_in(u, ALL)]


async def test_a_unit_commits_its_statements_together_then_calls_back(db: Database) -> None:
    told: list[str] = []
    async with db.unit() as u:
        await db.run_in(u, ADD, {"id": "a", "n": 1})
        await db.run_in(u, ADD, {"id": "b", "n": 2})
        after_commit(u, lambda: told.append("committed"))
        assert told == []  # not before the COMMIT
    assert told == ["committed"]
    assert await rows(db) == [("a", 1), ("b", 2)]


async def test_an_exception_rolls_the_whole_unit_back(db: Database) -> None:
    told: list[str] = []
    with pytest.raises(RuntimeError):
        async with db.unit() as u:
            await db.run_in(u, ADD, {"id": "a", "n": 1})
            after_commit(u, lambda: told.append("committed"))
            raise RuntimeError("changed my mind")
    assert await rows(db) == []
    assert told == []


async def test_a_violated_constraint_is_an_integrity_error_and_changes_nothing(
    db: Database,
) -> None:
    async with db.unit() as u:
        await db.run_in(u, ADD, {"id": "a", "n": 1})
    with pytest.raises(IntegrityError):
        async with db.unit() as u:
            await db.run_in(u, ADD, {"id": "b", "n": 2})
            await db.run_in(u, ADD, {"id": "a", "n": 3})  # the same key
    assert await rows(db) == [("a", 1)]
    async with db.unit() as u:  # the connection it ran on works
        await db.run_in(u, ADD, {"id": "c", "n": 4})
    assert await rows(db) == [("a", 1), ("c", 4)]


async def test_row_locks_serialize_concurrent_units(db: Database) -> None:
    # Twenty read-then-write increments at once: no update is lost.
    async with db.unit() as u:
        await db.run_in(u, ADD, {"id": "hits", "n": 0})

    async def increment() -> None:
        async with db.unit() as u:
            (row,) = await db.run_in(u, LOCKED, {"key": "hits"})
            await asyncio.sleep(0)  # let the others try meanwhile
            await db.run_in(u, SET, {"key": "hits", "to": row.n + 1})

    await asyncio.gather(*(increment() for _ in range(20)))
    assert await rows(db) == [("hits", 20)]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_unit_whose_error_was_swallowed_does_not_commit(db: Database) -> None:
    # PostgreSQL ends a transaction whose statement failed: COMMIT would silently
    # roll it back. The unit says so instead, and nothing is written.
    with pytest.raises(InvalidRequestError, match="rolled back"):
        async with db.unit() as u:
            await db.run_in(u, ADD, {"id": "a", "n": 1})
            with pytest.raises(IntegrityError):
                await db.run_in(u, ADD, {"id": "a", "n": 2})
    assert await rows(db) == []


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_unit_cancelled_midway_rolls_back_and_leaves_no_broken_connection(
    db: Database,
) -> None:
    for _ in range(3):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05), db.unit() as u:
                await db.run_in(u, ADD, {"id": "a", "n": 1})
                await db.run_in(u, select(text("pg_sleep(2)")))
    assert await rows(db) == []
    await asyncio.gather(*(db.fetch("SELECT 1") for _ in range(12)))  # each works


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_units_run_on_the_driver_and_are_counted(db: Database) -> None:
    trips, transactions = db.driver_round_trips, db.driver_transactions
    async with db.unit() as u:
        await db.run_in(u, ADD, {"id": "a", "n": 1})
        await db.run_in(u, SET, {"key": "a", "to": 2})
    async with db.reads() as u:  # autocommit: no transaction
        await db.run_in(u, ALL)
    assert (db.driver_round_trips - trips, db.driver_transactions - transactions) == (3, 1)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_unit_runs_at_read_committed_whatever_the_servers_default(
    db: Database, database_url: str
) -> None:
    name = db.url.database
    await db.fetch(f'ALTER DATABASE "{name}" SET default_transaction_isolation = serializable')
    fresh = Database("unittest", database_url)  # new connections take the new default
    try:
        level = select(func.current_setting("transaction_isolation").label("level"))
        async with fresh.reads() as u:
            assert (await fresh.run_in(u, level))[0].level == "serializable"
        async with fresh.unit() as u:
            assert (await fresh.run_in(u, level))[0].level == "read committed"
    finally:
        await fresh.dispose()
