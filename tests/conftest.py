"""Fixtures shared by the whole suite.

Databases: every database test runs on SQLite and on PostgreSQL. The PostgreSQL leg
creates a fresh database `cleanse_test_<random>` on the registry's "postgres"
address and drops it afterwards. When PostgreSQL is not reachable the leg is
skipped on a developer machine, and fails loudly when CI is set.

    async def test_x(database_url: str): ...            # fresh database per test
    async def test_y(module_database_url: str): ...     # one per module
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import MetaData

from mesh import client, registry
from mesh.db import Database, create_postgres_database, drop_postgres_database, postgres_url

BACKENDS = ["sqlite", "postgres"]
TEST_INTERNAL_SECRET = "test-internal-secret-" + secrets.token_hex(16)


@pytest.fixture(scope="session", autouse=True)
def internal_secret_env() -> Iterator[str]:
    """The mesh secret every ServiceApp needs (only when the environment has none)."""
    mp = pytest.MonkeyPatch()
    if len(os.environ.get("CLEANSE_INTERNAL_SECRET", "")) < 32:
        mp.setenv("CLEANSE_INTERNAL_SECRET", TEST_INTERNAL_SECRET)
    yield os.environ["CLEANSE_INTERNAL_SECRET"]
    mp.undo()


def free_address() -> registry.Address:
    return registry.free_address("127.0.0.1")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


_pg_reachable: bool | None = None


async def postgres_reachable() -> bool:
    global _pg_reachable
    if _pg_reachable is None:
        import asyncpg

        addr = registry.address("postgres")
        try:
            conn = await asyncpg.connect(
                user="postgres", host=addr.host, port=addr.port, database="postgres", timeout=3
            )
            await conn.close()
            _pg_reachable = True
        except (TimeoutError, OSError, asyncpg.PostgresError):
            _pg_reachable = False
    return _pg_reachable


async def require_postgres() -> None:
    if await postgres_reachable():
        return
    where = registry.address("postgres")
    if in_ci():
        pytest.fail(f"PostgreSQL is not reachable at {where} and CI is set", pytrace=False)
    pytest.skip(f"PostgreSQL is not reachable at {where} (set CI=1 to make this fail)")


@asynccontextmanager
async def temporary_database(backend: str, folder: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL for `backend`, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'test-{secrets.token_hex(4)}.db'}"
        return
    await require_postgres()
    url = postgres_url(f"cleanse_test_{secrets.token_hex(6)}")
    from sqlalchemy.engine import make_url

    await create_postgres_database(make_url(url))
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@asynccontextmanager
async def open_database(
    url: str, service: str, metadata: MetaData | None = None
) -> AsyncIterator[Database]:
    """`Database(service, url)`, with `metadata`'s tables created, disposed of when
    the block ends."""
    db = Database(service, url)
    try:
        if metadata is not None:
            async with db.engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
        yield db
    finally:
        await db.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with temporary_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
async def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    async with temporary_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


def service_database_fixture(service: str):
    """A session-scoped database fixture of one service, over SQLite and PostgreSQL.

    Each service's tests get their own database: two services migrated into one
    would share an alembic_version table and the second would never migrate.

        auth_database_url = service_database_fixture("auth")   # in tests/auth/conftest.py
    """

    @pytest.fixture(scope="session", params=BACKENDS, name=f"{service}_database_url")
    async def _database_url(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[str]:
        folder = tmp_path_factory.mktemp(f"{service}-db")
        async with temporary_database(request.param, folder) as url:
            yield url

    return _database_url


@pytest.fixture(autouse=True)
def _closed_breakers() -> Iterator[None]:
    """Every test starts with closed circuit breakers: the breakers are per process,
    and one test's stopped peer must not make a later test's calls fail fast."""
    client.reset_breakers()
    yield
