"""mesh.db, exercised through the auth service's schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from mesh.db import (
    DEFAULT_POSTGRES_SOCKET_DIR,
    Database,
    database_url,
    drop_postgres_database,
    postgres_socket_dir,
    postgres_url,
)
from services.auth.models import AuditLog
from tests.conftest import require_postgres


def test_url_precedence(tmp_path: Path) -> None:
    env = {"CLEANSE_DATA_DIR": str(tmp_path)}
    assert database_url("auth", env) == f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}"
    env["CLEANSE_DATABASE_URL"] = "postgresql+asyncpg://u@h:1/cleanse_{service}"
    assert database_url("catalog", env) == "postgresql+asyncpg://u@h:1/cleanse_catalog"
    env["CLEANSE_AUTH_DATABASE_URL"] = "sqlite+aiosqlite:///x.db"
    assert database_url("auth", env) == "sqlite+aiosqlite:///x.db"
    assert database_url("catalog", env) == "postgresql+asyncpg://u@h:1/cleanse_catalog"


def test_postgres_url_comes_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEANSE_POSTGRES_ADDR", "10.9.8.7:1234")
    url = make_url(postgres_url("cleanse_auth"))
    assert (url.drivername, url.host, url.port, url.database, url.username) == (
        "postgresql+asyncpg",
        "10.9.8.7",
        1234,
        "cleanse_auth",
        "postgres",
    )


async def test_ready_only_after_migrations(database_url: str) -> None:
    db = Database("auth", database_url)
    try:
        assert not await db.ready()
        await db.migrate()
        assert await db.ready()
        await db.migrate()  # idempotent
        assert await db.current_revisions() == db.heads()
    finally:
        await db.dispose()


async def test_unreachable_database_is_not_ready(tmp_path: Path) -> None:
    db = Database("auth", f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db")
    try:
        assert not await db.ready()
    finally:
        await db.dispose()


async def test_concurrent_read_modify_write_units_serialize(database_url: str) -> None:
    """30 concurrent increments: none fails with 'database is locked', none is lost.

    On SQLite this needs BEGIN IMMEDIATE (deferred transactions deadlock upgrading
    their read lock); on PostgreSQL the row lock (with_for_update) does it.
    """
    db = Database("auth", database_url)
    try:
        async with db.transaction() as s:
            await s.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
            await s.execute(text("INSERT INTO counter (id, n) VALUES (1, 0)"))

        async def bump() -> None:
            async with db.transaction() as s:
                lock = " FOR UPDATE" if not db.is_sqlite else ""
                n = (await s.execute(text(f"SELECT n FROM counter WHERE id = 1{lock}"))).scalar()
                await asyncio.sleep(0.001)
                await s.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})

        await asyncio.gather(*(bump() for _ in range(30)))
        async with db.session() as s:
            assert (await s.execute(text("SELECT n FROM counter"))).scalar() == 30
    finally:
        await db.dispose()


async def test_a_failed_unit_of_work_rolls_back(database_url: str) -> None:
    db = Database("auth", database_url)
    try:
        await db.migrate()
        with pytest.raises(RuntimeError):
            async with db.transaction() as s:
                s.add(AuditLog(actor_type="service", action="x", outcome="success"))
                await s.flush()
                raise RuntimeError("boom")
        async with db.session() as s:
            assert (await s.scalars(select(AuditLog))).all() == []
    finally:
        await db.dispose()


async def test_times_come_back_timezone_aware(database_url: str) -> None:
    db = Database("auth", database_url)
    when = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    try:
        await db.migrate()
        async with db.transaction() as s:
            s.add(AuditLog(actor_type="service", action="t", outcome="success", create_time=when))
        async with db.session() as s:
            got = (await s.scalars(select(AuditLog))).one().create_time
        assert got == when and got.tzinfo is not None
    finally:
        await db.dispose()


def test_a_local_postgres_is_reached_over_its_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On this machine's loopback, with the server's socket in the folder: the socket
    (the URL's host query, asyncpg's socket folder); else TCP to the registry's
    address. `.s.PGSQL.<port>` must be a socket: a file of that name is not one."""
    folder = tmp_path / "run"
    folder.mkdir()
    monkeypatch.setenv("CLEANSE_POSTGRES_SOCKET_DIR", str(folder))
    monkeypatch.setenv("CLEANSE_POSTGRES_ADDR", "127.0.0.1:6543")

    def where() -> tuple[str | None, int | None, str | None]:
        url = make_url(postgres_url("cleanse_auth"))
        return url.host, url.port, url.query.get("host")  # type: ignore[return-value]

    assert where() == ("127.0.0.1", 6543, None)  # no socket there
    (folder / ".s.PGSQL.6543").write_text("")
    assert where() == ("127.0.0.1", 6543, None)  # a plain file
    (folder / ".s.PGSQL.6543").unlink()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(folder / ".s.PGSQL.6543"))
    try:
        assert where() == (None, 6543, str(folder))
        monkeypatch.setenv("CLEANSE_POSTGRES_ADDR", "10.9.8.7:6543")  # not this machine
        assert where() == ("10.9.8.7", 6543, None)
        monkeypatch.setenv("CLEANSE_POSTGRES_ADDR", "127.0.0.1:6543")
        monkeypatch.setenv("CLEANSE_POSTGRES_SOCKET_DIR", "")  # TCP always
        assert where() == ("127.0.0.1", 6543, None)
    finally:
        listener.close()


@pytest.mark.parametrize("folder", [DEFAULT_POSTGRES_SOCKET_DIR, ""], ids=["socket", "tcp"])
async def test_services_reach_the_local_postgres_as_configured(
    folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real server, both ways: over the socket the server has no address of its
    own for the connection (inet_server_addr() is NULL), over TCP it is the loopback.
    Creating and dropping the database go the same way."""
    await require_postgres()
    monkeypatch.setenv("CLEANSE_POSTGRES_SOCKET_DIR", folder)
    if folder and postgres_socket_dir() is None:
        pytest.fail(f"PostgreSQL runs here but has no socket in {folder}")
    url = postgres_url(f"cleanse_test_{secrets.token_hex(6)}")
    db = Database("auth", url)
    try:
        await db.migrate()
        async with db.session() as s:
            server = await s.scalar(text("SELECT host(inet_server_addr())"))
        rows = await db.run(select(AuditLog.__table__.c.id))  # the driver's own path too
        assert rows == []
        assert server == (None if folder else "127.0.0.1")
    finally:
        await db.dispose()
        await drop_postgres_database(url)


async def test_migrate_creates_a_missing_postgres_database() -> None:
    await require_postgres()
    url = postgres_url(f"cleanse_test_{secrets.token_hex(6)}")
    db = Database("auth", url)
    try:
        await db.migrate()
        assert await db.ready()
    finally:
        await db.dispose()
        await drop_postgres_database(url)


async def test_concurrent_migrations_do_not_collide(database_url: str) -> None:
    """Several replicas starting at once: one migrates, the others find it done."""
    dbs = [Database("auth", database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(db.migrate() for db in dbs))
        assert all([await db.ready() for db in dbs])
    finally:
        for db in dbs:
            await db.dispose()
