"""Persistence machinery every service uses: one database per service, SQLite or PostgreSQL.

    db = Database("auth")                      # URL from the environment (below)
    await db.migrate()                         # Alembic: services/auth/migrations -> head
    async with db.transaction() as s:          # a write unit of work: commit or roll back
        s.add(thing)
    async with db.session() as s:              # reads
        rows = (await s.scalars(select(Thing))).all()
    rows = await db.run(STMT, {"id": x})         # a Core statement built ONCE: on PostgreSQL
    rows = await db.run_in(s, STMT, {"id": x})   # straight on asyncpg (alone / in `s`)
    async with db.unit() as u:                 # a unit of Core statements only: on
        rows = await db.run_in(u, STMT, {...})   # PostgreSQL no session at all (hot paths)
    async with db.reads() as u: ...            # Core reads on one connection, the same way
    app = ServiceApp("auth", readiness=db.ready)
    with on_conflict(AlreadyExists("brands/x already exists")):
        async with db.transaction() as s:      # a unique race the pre-check missed:
            s.add(thing)                       # ALREADY_EXISTS, not INTERNAL

Where the database is (first match wins):

1. ``CLEANSE_<SERVICE>_DATABASE_URL`` (e.g. ``CLEANSE_AUTH_DATABASE_URL``);
2. ``CLEANSE_DATABASE_URL`` with a ``{service}`` placeholder, e.g.
   ``postgresql+asyncpg://postgres@host:port/cleanse_{service}`` (``postgres_url()``
   builds that from the registry's "postgres" address: over the server's Unix socket
   when it runs on this machine, ``postgres_socket_dir()``);
3. the embedded default: ``<CLEANSE_DATA_DIR or ./data>/<service>.db`` via aiosqlite.

SQLite runs in WAL mode with a busy timeout and foreign keys on. SQLite has one
writer at a time, and a transaction that starts as a reader and later writes can
fail with "database is locked" when another writer got in first (the lock upgrade
cannot wait). So write units of work (`transaction()`) begin with ``BEGIN
IMMEDIATE``: they take the write lock up front and concurrent writers queue on the
busy timeout instead of failing. PostgreSQL runs at READ COMMITTED; use row locks
(``with_for_update()``; ignored on SQLite, where writers are serialized anyway) or
unique constraints where concurrent writers race.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from sqlalchemy import DateTime, Executable, event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import URL, Connection, Row, make_url
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import IntegrityError, InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

from mesh import registry
from mesh.driver_pool import SESSION_RESERVE, DriverConnections
from mesh.errors import InvalidArgument, ServiceError

log = logging.getLogger("mesh.db")

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_ENV = "CLEANSE_DATA_DIR"
DATABASE_URL_ENV = "CLEANSE_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "cleanse_begin_immediate"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The local data folder: CLEANSE_DATA_DIR, else ./data."""
    env = os.environ if env is None else env
    return Path(env.get(DATA_DIR_ENV) or "data").resolve()


# PostgreSQL on this machine is reached over its Unix socket, as libpq's own clients
# (psql) do when no host is given: the same server, without the TCP/IP stack. On the
# 2-core VM a round trip costs client and server together ~10 us (a tenth) less CPU
# over the socket (`python -m bench.postgres_transport`); a checkout makes about 60.
POSTGRES_SOCKET_DIR_ENV = "CLEANSE_POSTGRES_SOCKET_DIR"
DEFAULT_POSTGRES_SOCKET_DIR = "/var/run/postgresql"  # Debian's and libpq's default there
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def postgres_socket_dir(env: Mapping[str, str] | None = None) -> str | None:
    """The directory of the Unix socket of the registry's "postgres" address, or None
    for TCP: used when that address is this machine's loopback and the server's
    socket (``.s.PGSQL.<port>``) is in CLEANSE_POSTGRES_SOCKET_DIR (default
    /var/run/postgresql; set it empty for TCP always)."""
    env = os.environ if env is None else env
    addr = registry.address("postgres", env)
    folder = env.get(POSTGRES_SOCKET_DIR_ENV, DEFAULT_POSTGRES_SOCKET_DIR)
    if not folder or addr.host not in LOCAL_HOSTS:
        return None
    return folder if (Path(folder) / f".s.PGSQL.{addr.port}").is_socket() else None


def postgres_url(database: str, *, user: str = "postgres", password: str | None = None) -> str:
    """A postgresql+asyncpg URL for `database` on the registry's "postgres" address:
    over the server's Unix socket when it is on this machine (`postgres_socket_dir`),
    else over TCP."""
    addr = registry.address("postgres")
    folder = postgres_socket_dir()
    return URL.create(
        "postgresql+asyncpg",
        username=user,
        password=password,
        host=None if folder else addr.host,
        port=addr.port,
        database=database,
        query={"host": folder} if folder else {},
    ).render_as_string(hide_password=False)


def database_url(service: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    own = env.get(f"CLEANSE_{service.upper()}_DATABASE_URL")
    if own:
        return own
    template = env.get(DATABASE_URL_ENV)
    if template:
        return template.replace("{service}", service)
    return f"sqlite+aiosqlite:///{data_dir(env) / f'{service}.db'}"


def migrations_dir(service: str) -> Path:
    return ROOT / "services" / service / "migrations"


# Connections a pool keeps, and the few more it may open for a burst. Overflow
# connections are closed as soon as they are returned, so a pool too small for
# its steady load churns: under 16 checkout shoppers a 5 + 5 order pool opened
# about a hundred connections in 20 s, each a PostgreSQL backend fork, a login
# and every statement prepared afresh. A pool that keeps what the load needs
# opens them once.
DEFAULT_POOL_SIZE = 10
DEFAULT_POOL_OVERFLOW = 1


def pool_limits(service: str, env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """PostgreSQL connections one process may hold: (pool size, overflow).

    Every service process of the mesh shares one PostgreSQL server, whose
    max_connections (100 by default) must cover all of them: nine services at the
    default 10 + 1 stay under it. Override with CLEANSE_<SERVICE>_DB_POOL_SIZE /
    CLEANSE_DB_POOL_SIZE and CLEANSE_DB_POOL_OVERFLOW. A request that finds the pool
    exhausted waits up to 10 s for a connection instead of failing.
    """
    env = os.environ if env is None else env
    size = env.get(f"CLEANSE_{service.upper()}_DB_POOL_SIZE") or env.get("CLEANSE_DB_POOL_SIZE")
    overflow = env.get("CLEANSE_DB_POOL_OVERFLOW")
    return (
        int(size) if size else DEFAULT_POOL_SIZE,
        int(overflow) if overflow else DEFAULT_POOL_OVERFLOW,
    )


class UnsupportedStatement(TypeError):
    """A statement `Database.run` cannot run exactly as SQLAlchemy would (an ORM
    statement, parameters or defaults rendered at execution, results that need
    processing): a programming error, raised when it is first compiled."""


class DriverRow(asyncpg.Record):
    """A row from `Database.fetch` or `Database.run`: columns by key (`row["id"]`), as
    attributes (`row.id`), by position (`row[0]`, `row[2:]`) and as a mapping
    (`row._mapping`), so code written for SQLAlchemy's rows reads these too."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return dict(self.items())


# Rows of `Database.run`: the driver's on PostgreSQL, SQLAlchemy's on SQLite. Both read
# by attribute, by position (slices too) and through `_mapping`.
AnyRow = DriverRow | Row[Any]


class _Bind:
    """One `$n` parameter of a compiled statement: where its value comes from and the
    type processing SQLAlchemy applies to it before the driver sees it."""

    __slots__ = ("default", "name", "process", "required")

    def __init__(
        self, name: str, process: Callable[[Any], Any] | None, default: Any, required: bool
    ) -> None:
        self.name, self.process, self.default, self.required = name, process, default, required


class _DriverStatement:
    """A Core statement compiled once for asyncpg: its `$n` SQL and its parameters in
    `$n` order."""

    __slots__ = ("binds", "sql")

    def __init__(self, sql: str, binds: tuple[_Bind, ...]) -> None:
        self.sql, self.binds = sql, binds

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        for b in self.binds:
            if b.name in params:
                value = params[b.name]
            elif b.required:  # as SQLAlchemy raises it
                missing = InvalidRequestError(f"A value is required for bind parameter {b.name!r}")
                raise StatementError(str(missing), self.sql, dict(params), missing)
            else:
                value = b.default
            out.append(value if b.process is None else b.process(value))
        return out


class DriverUnit:
    """Statements on one driver connection (PostgreSQL), as `Database.unit()` and
    `Database.reads()` hand it out: `Database.run_in(u, STMT, params)` runs them.

    A write unit begins its transaction before its first statement (BEGIN, as a
    session's transaction does) and commits when its block ends; a reads unit runs
    each statement in autocommit. A statement the server refused marks the unit
    failed (its transaction can only roll back); one that did not finish (connection
    lost, cancelled midway) marks it broken (the connection is dropped)."""

    __slots__ = ("_on_commit", "began", "broken", "driver", "failed", "writes")

    def __init__(self, driver: asyncpg.Connection, *, writes: bool) -> None:
        self.driver, self.writes = driver, writes
        self.began = self.failed = self.broken = False
        self._on_commit: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the unit has committed (never if it rolls back)."""
        self._on_commit.append(callback)

    async def fetch(self, sql: str, args: Sequence[Any]) -> list[DriverRow]:
        try:
            if self.writes and not self.began:
                # As SQLAlchemy begins one: the level the module's docstring promises,
                # whatever the server's default_transaction_isolation says.
                await self.driver.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                self.began = True
            return await self.driver.fetch(sql, *args, record_class=DriverRow)
        except asyncpg.IntegrityConstraintViolationError as exc:
            self.failed = True
            raise IntegrityError(sql, args, exc) from exc
        except asyncpg.PostgresError:
            self.failed = True
            raise
        except BaseException:
            self.broken = True
            raise


async def _commit(u: DriverUnit) -> None:
    """COMMIT: a constraint checked then (deferred) is IntegrityError, as from a
    session; a COMMIT that did not finish leaves the connection broken."""
    try:
        await u.driver.execute("COMMIT")
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError("COMMIT", (), exc) from exc
    except asyncpg.PostgresError:
        raise
    except BaseException:
        u.broken = True
        raise


def after_commit(u: Unit, callback: Callable[[], None]) -> None:
    """Call `callback` once `u` (a DriverUnit or a session) commits, never if it rolls
    back."""
    if isinstance(u, DriverUnit):
        u.on_commit(callback)
    else:
        event.listen(u.sync_session, "after_commit", lambda _s: callback(), once=True)


def _json_loads(text: Any) -> Any:
    """As json.loads: TypeError for what is not text. SQLite hands a JSON column's bare
    number back as a number (its affinity), and SQLAlchemy's SQLite JSON type takes a
    TypeError to mean "return it as it is"; orjson would raise a ValueError."""
    if not isinstance(text, str | bytes | bytearray | memoryview):
        raise TypeError(f"the JSON object must be text, not {type(text).__name__}")
    return orjson.loads(text)


def _json_dumps(value: Any) -> str:
    """A JSON column's text, as json.dumps gives it bar the spaces (keys that are not
    strings become strings, as there)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# A unit of work's handle: a session (SQLite, or a unit that needs the ORM) or a
# DriverUnit (PostgreSQL). `Database.run_in` takes either.
Unit = AsyncSession | DriverUnit


class Database:
    """One service's database: engine, sessions, units of work, migrations, readiness."""

    def __init__(
        self,
        service: str,
        url: str | None = None,
        *,
        script_location: Path | None = None,
        echo: bool = False,
    ) -> None:
        self.service = service
        self.url: URL = make_url(url or database_url(service))
        self.script_location = script_location or migrations_dir(service)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # JSON columns through orjson (a project dependency): a third of json's CPU.
        kwargs: dict[str, Any] = {
            "echo": echo,
            "json_serializer": _json_dumps,
            "json_deserializer": _json_loads,
        }
        keep, recycle = 0, 0.0  # the driver path keeps no connections on SQLite
        if self.is_sqlite:
            db_path = self.url.database
            if db_path and db_path != ":memory:" and not db_path.startswith("file:"):
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
                _enable_wal(db_path)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            size, overflow = pool_limits(service)
            # No pre-ping: it is a round trip per checkout, and a round trip on
            # loopback costs about as much CPU as the query it guards. A connection
            # the server dropped fails one request (UNAVAILABLE, which callers retry
            # for idempotent methods) and SQLAlchemy then recycles the whole pool.
            recycle = 1800.0
            kwargs.update(
                pool_size=size, max_overflow=overflow, pool_timeout=10, pool_recycle=recycle
            )
            keep = size - SESSION_RESERVE
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        # Writers: BEGIN IMMEDIATE on SQLite (a no-op option elsewhere).
        self._write_engine = self.engine.execution_options(**{_IMMEDIATE: True})
        # Readers on PostgreSQL run without BEGIN/ROLLBACK: at READ COMMITTED every
        # statement takes its own snapshot inside a transaction too, so autocommit
        # reads see exactly what they would see there, for two round trips fewer.
        # (SQLite keeps its transaction: there it is what gives a read one snapshot.)
        self._autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        read_engine = self.engine if self.is_sqlite else self._autocommit_engine
        self._sessions = async_sessionmaker(read_engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self._write_engine, expire_on_commit=False)
        self._heads: set[str] | None = None
        # `run`'s statements compiled for the driver, by statement OBJECT (its id, with
        # a weak reference that drops the entry when the statement goes away).
        self._driver_statements: dict[int, tuple[weakref.ref[Any], _DriverStatement]] = {}
        # Pool connections the driver path keeps between statements (PostgreSQL).
        self._kept = DriverConnections(self.engine, keep=keep, recycle=recycle)
        self.driver_compiles = 0  # statements compiled for the driver (tests)
        self.driver_round_trips = 0  # statements run straight on the driver (tests)
        self.driver_transactions = 0  # transactions begun by `unit()` on the driver (tests)

    def __repr__(self) -> str:
        return f"Database({self.service!r}, {self.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    # --- sessions ------------------------------------------------------------------

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; writes belong in `transaction()`."""
        async with self._sessions() as s:
            yield s

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write unit of work: commits when the block ends, rolls back on an exception.

        On SQLite it begins with BEGIN IMMEDIATE, so concurrent writers serialize.
        """
        async with self._write_sessions() as s, s.begin():
            yield s

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        """A write unit of work of Core statements (`run_in(u, STMT, params)`):
        commits when the block ends, rolls back on an exception.

        PostgreSQL: straight on the driver, on a connection the driver path keeps
        (mesh/driver_pool.py): BEGIN before the first statement, COMMIT at the end,
        the round trips a session's transaction makes, without the session, its
        Connection and their greenlet switches (a transaction of two statements:
        about 0.12 ms of CPU instead of 0.5 on the development VM). A block that
        swallowed a refused statement's error cannot commit: the unit rolls back and
        raises InvalidRequestError. SQLite: `transaction()`'s session (BEGIN
        IMMEDIATE). For the ORM (`s.add`, `s.get`), `transaction()`."""
        async with self._unit(writes=True) as u:
            yield u

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[Unit]:
        """Reads of Core statements on one connection (`run_in(u, STMT, params)`):
        on PostgreSQL each in autocommit straight on the driver (as `session()`'s
        reads: every statement takes its own snapshot at READ COMMITTED), on SQLite
        in `session()`'s transaction (one snapshot)."""
        async with self._unit(writes=False) as u:
            yield u

    @asynccontextmanager
    async def _unit(self, *, writes: bool) -> AsyncIterator[Unit]:
        if self.is_sqlite:
            async with self.transaction() if writes else self.session() as s:
                yield s
            return
        fairy, since = await self._kept.take()
        u = DriverUnit(fairy.driver_connection, writes=writes)
        try:
            yield u
            if u.began:
                if u.failed:
                    raise InvalidRequestError(
                        "a statement of this unit of work failed: it was rolled back"
                    )
                u.began = False
                await _commit(u)
        except BaseException:
            if u.began and not u.broken:
                try:
                    await u.driver.execute("ROLLBACK")
                except BaseException:
                    u.broken = True
            await self._return(u, fairy, since)
            raise
        await self._return(u, fairy, since)
        if u.broken:  # a statement did not finish and the block went on regardless
            raise InvalidRequestError("a statement of this unit of work did not finish")
        for callback in u._on_commit:
            callback()

    async def execute(self, statement: Executable) -> list[Row[Any]]:
        """One statement as a unit of work of its own; the rows it returns.

        On PostgreSQL it runs in autocommit on a plain connection: no BEGIN, no
        COMMIT, no ORM session, one round trip (an UPDATE ... RETURNING claims and
        answers at once). On SQLite it runs in a BEGIN IMMEDIATE transaction.
        """
        engine = self._write_engine if self.is_sqlite else self._autocommit_engine
        async with engine.begin() if self.is_sqlite else engine.connect() as conn:
            result = await conn.execute(statement)
            return list(result.all()) if result.returns_rows else []

    async def fetch(self, sql: str, *args: Any) -> list[DriverRow]:
        """PostgreSQL: one self-contained statement straight on the driver (asyncpg);
        its rows, whose columns read as attributes too (`row.id`).

        For a hot path's single statements. Through a session a statement costs the
        caller about 0.45 ms of CPU on the development VM, of which the round trip
        (asyncpg and the socket) is about 0.07 ms: the rest is the session,
        SQLAlchemy's Connection (isolation-level characteristics, compile cache,
        parameter and result processing) and the greenlet switches between them.
        Here the statement runs on the driver, on a connection of the SAME pool (its
        limits, recycling and overflow hold) that the driver path keeps checked out
        between statements (mesh/driver_pool.py): about 0.03 ms.

        Rules: ONE statement, which commits on its own (asyncpg outside a transaction
        block is autocommit, like `session()`'s reads on PostgreSQL, so nothing is
        left open when the connection goes back to the pool); written for PostgreSQL
        with `$n` parameters, each cast to its type; `timestamptz` values are aware
        datetimes both ways. The service keeps a SQLAlchemy path for SQLite (or
        writes a Core statement once and runs it with `run`, which takes both).

        Errors: a constraint violation is raised as SQLAlchemy's IntegrityError, as
        from a session, so conflict handling is the same on either path; any other
        server error propagates as asyncpg raised it; anything else (connection lost,
        cancelled mid-statement) invalidates the connection, so the pool never hands
        out one in an unknown state.
        """
        if self.is_sqlite:
            raise RuntimeError("Database.fetch is PostgreSQL's; SQLite takes the session path")
        return await self._on_driver(sql, args)

    async def _on_driver(self, sql: str, args: Sequence[Any]) -> list[DriverRow]:
        """`sql` on a connection of the pool, autocommit (`fetch`)."""
        fairy, since = await self._kept.take()
        u = DriverUnit(fairy.driver_connection, writes=False)  # one autocommit statement
        self.driver_round_trips += 1
        try:
            rows = await u.fetch(sql, args)
        finally:
            await self._return(u, fairy, since)
        return rows

    async def _return(self, u: DriverUnit, fairy: Any, since: float) -> None:
        """A unit's connection back: kept (nothing open on it), or dropped when a
        statement did not finish (lost, cancelled midway: its state is unknown)."""
        if u.broken:
            await self._kept.discard(fairy)
        else:
            await self._kept.give_back(fairy, since)

    # --- Core statements on the driver -----------------------------------------------

    async def run(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> list[AnyRow]:
        """One Core statement with its parameters as a unit of work of its own; the
        rows it returns (none for a statement without RETURNING).

        PostgreSQL: straight on the driver as `fetch` runs hand-written SQL (autocommit,
        one round trip, the same pool, the same errors), the statement compiled ONCE
        for the driver (`driver_statement`): build it once (a module constant or a
        template), never per call, or it is compiled per call. SQLite: through
        SQLAlchemy in a BEGIN IMMEDIATE transaction, as `execute`. Either way the same
        values reach the database and the same values come back (SQLAlchemy's bind
        processing is applied; rows read by attribute, position and `_mapping`).
        """
        if self.is_sqlite:
            _refuse_orm(statement)
            async with self._write_engine.begin() as conn:
                result = await conn.execute(statement, params)
                return list(result.all()) if result.returns_rows else []
        compiled = self.driver_statement(statement)
        return await self._on_driver(compiled.sql, compiled.args(params or {}))

    async def run_in(
        self,
        s: Unit | AsyncConnection,
        statement: Executable,
        params: Mapping[str, Any] | None = None,
    ) -> list[AnyRow]:
        """`run`, inside the session's (or connection's) transaction: on PostgreSQL on
        its own driver connection, the way SQLAlchemy's asyncpg adapter runs a
        statement there.

        The adapter begins its asyncpg transaction lazily, before the first statement
        (under its execute lock): so does this, with the adapter's own state and
        method, so a transaction whose first statement runs here is begun exactly as
        through SQLAlchemy, and an autocommit connection (`session()`'s reads) stays
        autocommit. COMMIT and ROLLBACK stay SQLAlchemy's. A constraint violation is
        IntegrityError (the caller's block then rolls back); another server error
        propagates as asyncpg's; anything else invalidates the connection. In a
        DriverUnit (`unit()`, `reads()`) the statement runs on the unit's connection."""
        if self.is_sqlite:
            _refuse_orm(statement)
            conn = await s.connection() if isinstance(s, AsyncSession) else s
            result = await conn.execute(statement, params)
            return list(result.all()) if result.returns_rows else []
        compiled = self.driver_statement(statement)
        args = compiled.args(params or {})
        if type(s) is DriverUnit:
            if s.writes and not s.began:
                self.driver_transactions += 1
            self.driver_round_trips += 1
            return await s.fetch(compiled.sql, args)
        fairy = await _pooled_connection(s)
        adapter: Any = fairy.dbapi_connection  # sqlalchemy's AsyncAdapt_asyncpg_connection
        driver: asyncpg.Connection = fairy.driver_connection  # type: ignore[assignment]
        try:
            async with adapter._execute_mutex:
                if adapter._transaction is None:
                    await adapter._start_transaction()  # BEGIN, unless autocommit
                self.driver_round_trips += 1
                return await driver.fetch(compiled.sql, *args, record_class=DriverRow)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(compiled.sql, args, exc) from exc
        except asyncpg.PostgresError:
            raise
        except BaseException as exc:
            conn = await s.connection() if isinstance(s, AsyncSession) else s
            await conn.invalidate(exc if isinstance(exc, Exception) else None)
            raise

    def driver_statement(self, statement: Executable) -> _DriverStatement:
        """`statement` compiled for asyncpg, once per statement object (kept while the
        statement lives; never looked up by its SQL or its values)."""
        key = id(statement)
        entry = self._driver_statements.get(key)
        if entry is not None and entry[0]() is statement:
            return entry[1]
        compiled = _compile_for_driver(statement, self.engine.dialect)
        self.driver_compiles += 1
        cache = self._driver_statements

        def forget(_ref: weakref.ref[Any], key: int = key) -> None:
            cache.pop(key, None)

        self._driver_statements[key] = (weakref.ref(statement, forget), compiled)
        return compiled

    async def insert(self, obj: Any) -> None:
        """One new ORM object written as a single INSERT of its own (`execute`): on
        PostgreSQL one round trip, where a `transaction()` that adds it takes three
        (BEGIN, INSERT, COMMIT) and a unit of work. Column defaults the object does not
        set (plain values, or callables such as `new_id`) are filled in on `obj` first,
        so it holds exactly what was written."""
        mapper = sa_inspect(type(obj))
        values: dict[str, Any] = {}
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            if attr.key not in obj.__dict__:
                default = column.default
                if default is None or not (default.is_scalar or default.is_callable):
                    continue  # left to the database (NULL or a server default)
                setattr(obj, attr.key, default.arg(None) if default.is_callable else default.arg)
            values[column.name] = getattr(obj, attr.key)
        await self.execute(mapper.local_table.insert().values(values))

    # --- schema --------------------------------------------------------------------

    async def create_database(self) -> None:
        """Create the PostgreSQL database if it does not exist (SQLite: the folder)."""
        if self.is_sqlite:
            return
        await create_postgres_database(self.url)

    def _alembic_config(self, connection: Connection | None = None) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(self.script_location))
        cfg.set_main_option(
            "sqlalchemy.url", self.url.render_as_string(hide_password=False).replace("%", "%%")
        )
        if connection is not None:
            cfg.attributes["connection"] = connection
        return cfg

    def heads(self) -> set[str]:
        if self._heads is None:
            from alembic.script import ScriptDirectory

            self._heads = set(ScriptDirectory.from_config(self._alembic_config()).get_heads())
        return self._heads

    async def migrate(self, revision: str = "head") -> None:
        """Run the service's Alembic migrations up to `revision` (creating the database)."""
        from alembic import command

        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
        await self.create_database()

        def upgrade(conn: Connection) -> None:
            if conn.dialect.name == "postgresql":
                # Replicas starting together: one migrates, the others wait, then no-op.
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                    {"key": f"cleanse-migrate:{self.service}"},
                )
            command.upgrade(self._alembic_config(conn), revision)

        started = time.monotonic()
        async with self._write_engine.begin() as conn:
            await conn.run_sync(upgrade)
        log.info(
            "migrated",
            extra={
                "service": self.service,
                "revision": revision,
                "seconds": round(time.monotonic() - started, 3),
            },
        )

    async def current_revisions(self) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {r[0] for r in rows}

    async def ready(self) -> bool:
        """Reachable and migrated to head: drives the gRPC health status."""
        try:
            return await asyncio.wait_for(self.current_revisions(), 5.0) == self.heads()
        except Exception as exc:
            log.debug("not ready: %s", exc)
            return False

    async def dispose(self) -> None:
        await self._kept.release()
        await self.engine.dispose()


@contextmanager
def on_conflict(error: ServiceError) -> Iterator[None]:
    """Raise `error` when a constraint refuses a write made inside the block.

    For the race a pre-check cannot close: two writers both saw the slug free, the
    second one's INSERT (or COMMIT) fails with IntegrityError. Wrap the transaction:

        with on_conflict(AlreadyExists(f"{name} already exists")):
            async with db.transaction() as s:
                ...
    """
    try:
        yield
    except IntegrityError:
        raise error from None


# Result types whose processing is the identity on what asyncpg decodes: UTCDateTime
# (timestamptz arrives aware, in UTC, and stays as it is). JSON, bytes, strings,
# integers and booleans have no result processing on SQLAlchemy's asyncpg dialect (its
# JSON codecs, installed on every connection of the pool, decode JSON in the driver).
# (`_DRIVER_RESULT_IDENTITY`, defined below UTCDateTime.)


_POOLED = "mesh.db.pooled"  # a session's info key: (its Connection, the pooled connection)


async def _pooled_connection(s: AsyncSession | AsyncConnection) -> Any:
    """The pool's connection under `s`'s transaction (SQLAlchemy's _ConnectionFairy).

    `AsyncSession.connection()` and `AsyncConnection.get_raw_connection()` each switch
    greenlets, which costs about as much CPU as the statement: a session keeps its
    answer in its `info` for as long as that Connection is the one in use (open, valid,
    in its transaction; a session's next transaction gets a new one)."""
    if isinstance(s, AsyncSession):
        kept = s.info.get(_POOLED)
        if kept is not None:
            sync, fairy = kept
            if not sync.closed and not sync.invalidated and sync.in_transaction():
                return fairy
        conn = await s.connection()
        fairy = await conn.get_raw_connection()
        s.info[_POOLED] = (conn.sync_connection, fairy)
        return fairy
    return await s.get_raw_connection()


def _refuse_orm(statement: Executable) -> None:
    """`run` takes Core statements: an ORM statement (`select(Model)`) would return
    objects through a session (and autoflush it first), rows here."""
    if statement._propagate_attrs.get("compile_state_plugin") == "orm":
        raise UnsupportedStatement("Database.run takes Core statements (tables, not models)")


def _compile_for_driver(statement: Executable, dialect: Dialect) -> _DriverStatement:
    """`statement` as asyncpg takes it: SQLAlchemy's `$n` SQL (with its casts), the
    parameters in `$n` order with their bind processors and defaults (literal values
    in the statement). Refuses what it would not run exactly as SQLAlchemy does:
    parameters rendered at execution (expanding IN, literal_execute), defaults computed
    at execution, implicit RETURNING, results that need processing."""
    _refuse_orm(statement)
    compiled: Any = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise UnsupportedStatement("Database.run: parameters rendered at execution (IN lists)")
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise UnsupportedStatement("Database.run: column defaults computed at execution")
    if getattr(compiled, "implicit_returning", None) or compiled.escaped_bind_names:
        raise UnsupportedStatement("Database.run: implicit RETURNING or escaped parameter names")
    for column in compiled._result_columns:
        try:
            processed = column.type._cached_result_processor(dialect, None) is not None
        except Exception:  # processing that depends on the driver's type (Numeric)
            processed = True
        if processed and not isinstance(column.type, _DRIVER_RESULT_IDENTITY):
            raise UnsupportedStatement(
                f"Database.run: result column {column.name!r} of type {column.type!r} "
                "needs processing; run it through a session"
            )
    processors: Mapping[str, Callable[[Any], Any]] = compiled._bind_processors
    binds: list[_Bind] = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if bind.callable is not None:
            raise UnsupportedStatement(f"Database.run: parameter {name!r} has a callable value")
        binds.append(_Bind(name, processors.get(name), bind.value, bool(bind.required)))
    return _DriverStatement(compiled.string, tuple(binds))


def _enable_wal(path: str) -> None:
    """Put the SQLite file in WAL mode (a property of the file: set once, before the
    pool opens connections). The switch needs the file to itself, and SQLite refuses
    it at once with "database is locked", without waiting out the busy timeout, while
    another process or connection is opening it (replicas starting together), so it
    is retried for as long as the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            with contextlib.closing(
                sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
            ) as conn:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of the sqlite3 module's
        # implicit, deferred transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def create_postgres_database(url: URL) -> bool:
    """CREATE DATABASE url.database unless it exists; True when it was created."""
    conn = await _admin_connection(url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", url.database)
        if exists:
            return False
        try:
            await conn.execute(f'CREATE DATABASE "{_pg_ident(url.database)}"')
        except asyncpg.DuplicateDatabaseError:  # another process won the race
            return False
        log.info("created database", extra={"database": url.database})
        return True
    finally:
        await conn.close()


async def drop_postgres_database(url: URL | str) -> None:
    url = make_url(url)
    conn = await _admin_connection(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{_pg_ident(url.database)}" WITH (FORCE)')
    finally:
        await conn.close()


async def _admin_connection(url: URL) -> Any:
    """A connection to the server of `url` (its socket folder when it names one)."""
    return await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.query.get("host") or url.host,
        port=url.port,
        database="postgres",
        timeout=5,
    )


def _pg_ident(name: str | None) -> str:
    if not name or not all(c.isalnum() or c == "_" for c in name):
        raise ValueError(f"refusing to use {name!r} as a database name")
    return name


# --- column types and ids ----------------------------------------------------------


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every back end (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_DRIVER_RESULT_IDENTITY: tuple[type, ...] = (UTCDateTime,)


def utcnow() -> datetime:
    return datetime.now(UTC)


_id_lock = threading.Lock()
_id_last = [0, 0]  # last millisecond, sequence within it


def new_id() -> str:
    """A 32-hex-digit id that sorts by creation time.

    48-bit millisecond clock, 16-bit sequence (ids made by one process are strictly
    increasing, even within a millisecond), 64 random bits. Lists page by id
    (keyset): "newest first" is "id descending".
    """
    with _id_lock:
        ms = int(time.time() * 1000)
        if ms <= _id_last[0]:
            ms = _id_last[0]
            _id_last[1] += 1
            if _id_last[1] > 0xFFFF:  # 65536 ids in one millisecond: borrow the next
                ms, _id_last[1] = ms + 1, 0
        else:
            _id_last[1] = 0
        _id_last[0] = ms
        seq = _id_last[1]
    return f"{ms:012x}{seq:04x}{secrets.token_hex(8)}"


# --- page tokens (AIP-158) ---------------------------------------------------------


def _filters_digest(filters: Mapping[str, Any] | None) -> str:
    raw = json.dumps(filters or {}, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def encode_page_token(last_key: Any, filters: Mapping[str, Any] | None = None) -> str:
    """An opaque token for the page after `last_key`, bound to the list's filters."""
    raw = json.dumps({"k": last_key, "f": _filters_digest(filters)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(token: str, filters: Mapping[str, Any] | None = None) -> Any:
    """The key a page token continues after; None for the first page.

    A malformed token, or one from a list with other filters, is INVALID_ARGUMENT.
    """
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key, digest = data["k"], data["f"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument({"page_token": "is not a valid page token"}) from None
    if digest != _filters_digest(filters):
        raise InvalidArgument({"page_token": "belongs to a list with other filters"})
    return key


def page_after(token: str, filters: Mapping[str, Any] | None = None) -> str | None:
    """The id a keyset page token continues after (as decode_page_token, but the key
    must be a string id); None for the first page."""
    key = decode_page_token(token, filters)
    if key is not None and not isinstance(key, str):
        raise InvalidArgument({"page_token": "is not a valid page token"})
    return key


def _row_id(row: Any) -> Any:
    return row.id


def next_page_token(
    rows: Sequence[Any],
    size: int,
    filters: Mapping[str, Any] | None = None,
    *,
    key: Callable[[Any], Any] = _row_id,
) -> str:
    """The token for the page after the first `size` rows, or "" for the last page.

    Lists fetch size + 1 rows: the extra row only says that there is more. The token
    continues after the last row shown, `key(rows[size - 1])` (its id by default).
    """
    if len(rows) <= size:
        return ""
    return encode_page_token(key(rows[size - 1]), filters)
