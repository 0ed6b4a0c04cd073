"""Database.fetch: one statement straight on asyncpg, from the engine's own pool.

PostgreSQL only (the driver path is PostgreSQL's; on SQLite it refuses): a violated
constraint is SQLAlchemy's IntegrityError, as from a session, and changes nothing;
after statements cancelled midway every connection the pool hands out works; rows
read by key and as attributes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from mesh.db import Database, pool_limits
from tests.conftest import open_database, temporary_database


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[Database]:
    async with temporary_database("postgres", tmp_path) as url:
        db = Database("fetchtest", url)
        async with db.transaction() as s:
            await s.execute(text("CREATE TABLE t (id int PRIMARY KEY, n int CHECK (n >= 0))"))
        try:
            yield db
        finally:
            await db.dispose()


async def test_rows_read_by_key_and_as_attributes(pg: Database) -> None:
    rows = await pg.fetch("INSERT INTO t VALUES ($1::int, $2::int) RETURNING id, n", 1, 5)
    assert (rows[0].id, rows[0]["n"]) == (1, 5)
    with pytest.raises(AttributeError):
        _ = rows[0].missing
    # Autocommit: a session sees it at once.
    async with pg.session() as s:
        assert (await s.execute(text("SELECT n FROM t WHERE id = 1"))).scalar_one() == 5


async def test_a_violated_constraint_is_an_integrity_error_and_changes_nothing(
    pg: Database,
) -> None:
    await pg.fetch("INSERT INTO t VALUES (1, 5)")
    for sql in ("INSERT INTO t VALUES (1, 6)", "UPDATE t SET n = -1 WHERE id = 1"):
        with pytest.raises(IntegrityError):
            await pg.fetch(sql)
    assert [tuple(r) for r in await pg.fetch("SELECT id, n FROM t")] == [(1, 5)]


async def test_a_cancelled_statement_leaves_no_broken_connection_in_the_pool(
    pg: Database,
) -> None:
    for _ in range(3):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await pg.fetch("SELECT pg_sleep(2)")
    size, overflow = pool_limits("fetchtest")
    # More than the pool holds, several at once: every connection it gives works.
    answers = await asyncio.gather(
        *(pg.fetch("SELECT $1::int AS k", k) for k in range(2 * (size + overflow)))
    )
    assert [rows[0].k for rows in answers] == list(range(2 * (size + overflow)))


async def test_sqlite_refuses(tmp_path: Path) -> None:
    db = Database("fetchtest", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        with pytest.raises(RuntimeError, match="PostgreSQL"):
            await db.fetch("SELECT 1")
    finally:
        await db.dispose()


async def test_an_overflow_connection_goes_back_closed_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A pool of 1 (+2): statements three at a time make overflow connections, which
    # the pool closes as they come back. Closing awaits asyncpg, so it must happen in
    # SQLAlchemy's greenlet: done bare, the pool logs MissingGreenlet and the
    # connection is left open at the server.
    monkeypatch.setenv("CLEANSE_OVERFLOWTEST_DB_POOL_SIZE", "1")
    monkeypatch.setenv("CLEANSE_DB_POOL_OVERFLOW", "2")
    async with (
        temporary_database("postgres", tmp_path) as url,
        open_database(url, "overflowtest") as db,
    ):
        with caplog.at_level("ERROR", logger="sqlalchemy.pool"):
            for _ in range(3):
                await asyncio.gather(*(db.fetch("SELECT pg_sleep(0.05)") for _ in range(3)))
        assert not [r for r in caplog.records if r.name.startswith("sqlalchemy.pool")]
        opened = await db.fetch(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
        )
        assert opened[0].n == 1  # the pooled connection, asking this


async def _backends(url: str) -> int:
    """Connections open to the database at `url`, asked over a connection of its own."""
    async with open_database(url, "countertest") as other:
        rows = await other.fetch(
            "SELECT count(*) AS n FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(rows[0].n)


async def test_statements_reuse_a_kept_connection_and_dispose_gives_it_back(
    tmp_path: Path,
) -> None:
    async with temporary_database("postgres", tmp_path) as url:
        async with open_database(url, "keeptest") as db:
            pids = {(await db.fetch("SELECT pg_backend_pid() AS p"))[0].p for _ in range(5)}
            assert len(pids) == 1  # one connection, kept between statements
            assert await _backends(url) == 1
        assert await _backends(url) == 0  # nothing left open at the server


async def test_a_connection_the_server_closed_is_never_handed_out(tmp_path: Path) -> None:
    async with (
        temporary_database("postgres", tmp_path) as url,
        open_database(url, "keeptest") as db,
    ):
        # Several kept connections, then the server ends every one of them.
        await asyncio.gather(*(db.fetch("SELECT pg_sleep(0.05)") for _ in range(4)))
        async with open_database(url, "killer") as killer:
            await killer.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        await asyncio.sleep(0.2)  # the sockets' ends reach the event loop
        for k in range(6):  # every statement works: no dead connection reused
            assert (await db.fetch("SELECT $1::int AS k", k))[0].k == k


async def test_sessions_find_connections_while_statements_keep_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pool of 3 (+0): statements keep at most 1 of them, so with one statement
    # running and one kept connection, two sessions still open at once, at once.
    monkeypatch.setenv("CLEANSE_SHARETEST_DB_POOL_SIZE", "3")
    monkeypatch.setenv("CLEANSE_DB_POOL_OVERFLOW", "0")
    async with (
        temporary_database("postgres", tmp_path) as url,
        open_database(url, "sharetest") as db,
    ):
        await asyncio.gather(*(db.fetch("SELECT pg_sleep(0.05)") for _ in range(3)))
        assert await _backends(url) <= 3

        async def in_session() -> int:
            async with db.session() as s:
                await s.execute(text("SELECT pg_sleep(0.2)"))
                return 1

        async with asyncio.timeout(2):  # the pool's own wait would be 10 s
            assert sum(await asyncio.gather(in_session(), in_session())) == 2
