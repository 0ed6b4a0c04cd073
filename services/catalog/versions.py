"""The catalogue's change counter, and what this process caches against it.

One number says "something a shopper can see may have changed": the `search_state`
row "index" (services/catalog/search/models.py). Every catalogue write that touches
a product (the product, a variant, its media/attributes/tags/ingredient links/
categories, its brand, an ingredient or a category it is in; created, changed or
deleted), the CSV import and synonym changes bump it with
`search.indexer.bump_version`, in the write's own transaction, so the bump commits
(or rolls back) with the change. `VersionedIndexer` makes the catalog's write path
bump it whatever ProductIndexer is wired; the search indexer bumps it too (once per
transaction either way).

Writes that change no product row but change what a product belongs to (collections:
created, changed, deleted, products added or removed) bump it too, with
`catalogue_changed`.

Readers (the search engine's term dictionary, the storefront's product pages, the
variant facts BatchGetVariants answers with) tag what they cache with the version
they read BEFORE loading it, and reuse an entry only while `CatalogVersion.current()`
still returns that version. `current()` answers
from a read of the row that started after the call, so nothing cached before a
commit is served after it, in this process or any other process or replica sharing
the database. On a SQLite file the row is read in place (microseconds); elsewhere
concurrent callers share one read (at most one in flight and one queued), so a busy
process reads the row once per database round trip, not once per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from mesh.db import Database
from mesh.errors import NotFound
from services.catalog.indexer import ProductIndexer
from services.catalog.search.indexer import STATE_KEY, bump_version
from services.catalog.search.models import SearchState

T = TypeVar("T")


class CatalogVersion:
    """`await current()`: the catalogue version as of a read started after the call."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reads = 0  # database reads made (tests, diagnostics)
        self._lock = asyncio.Lock()
        self._queued: asyncio.Future[int] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._sqlite: sqlite3.Connection | None = None
        path = db.url.database if db.is_sqlite else None
        plain_file = path and path != ":memory:" and not path.startswith("file:")
        self._sqlite_path = path if plain_file else None
        self._sqlite_retry_at = 0.0

    async def current(self) -> int:
        if self._sqlite_path is not None and time.monotonic() >= self._sqlite_retry_at:
            try:
                return self._read_sqlite()
            except sqlite3.Error:  # busy, or cannot open: the async path for a second
                self._close_sqlite()
                self._sqlite_retry_at = time.monotonic() + 1.0
        fut = self._queued
        if fut is None:
            fut = self._queued = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._read(fut))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(fut)

    def _read_sqlite(self) -> int:
        """SQLite file: read the row in place through a read-only sqlite3 connection
        kept for it, in autocommit (each read sees the last commit). A few microseconds
        on the event loop, cheaper than one hop to aiosqlite's thread; WAL readers do
        not wait for writers, and a busy file fails fast (then the async path)."""
        if self._sqlite is None:
            assert self._sqlite_path is not None
            self._sqlite = sqlite3.connect(
                Path(self._sqlite_path).resolve().as_uri() + "?mode=ro",
                uri=True,
                timeout=0.05,
                isolation_level=None,
                check_same_thread=False,
            )
        row = self._sqlite.execute(
            "SELECT version FROM search_state WHERE key = ?", (STATE_KEY,)
        ).fetchone()
        self.reads += 1
        return int(row[0]) if row else 0

    def _close_sqlite(self) -> None:
        conn, self._sqlite = self._sqlite, None
        if conn is not None:
            conn.close()

    async def _read(self, fut: asyncio.Future[int]) -> None:
        async with self._lock:
            if self._queued is fut:
                self._queued = None  # callers from now on wait for the next read
            try:
                value = await self._fetch()
                self.reads += 1
            except BaseException as exc:
                await self._drop_connection()
                if not fut.done():
                    fut.set_exception(exc)
                    fut.exception()  # retrieved: no "never retrieved" warning if all left
                if not isinstance(exc, Exception):
                    raise
                return  # the callers have it
            if not fut.done():
                fut.set_result(value)

    async def _fetch(self) -> int:
        """One autocommit read of the row on a connection kept for it: on SQLite and
        PostgreSQL straight through the driver (one round trip, no pool checkout,
        ping, BEGIN or ROLLBACK); elsewhere through SQLAlchemy."""
        if self._conn is None:
            self._conn = await self.db.engine.connect()
            raw = await self._conn.get_raw_connection()
            self._driver = raw.driver_connection
        name = self.db.engine.dialect.driver
        if name == "aiosqlite":
            rows = await self._driver.execute_fetchall(  # type: ignore[union-attr]
                "SELECT version FROM search_state WHERE key = ?", (STATE_KEY,)
            )
            return int(rows[0][0]) if rows else 0
        if name == "asyncpg":
            value = await self._driver.fetchval(  # type: ignore[union-attr]
                "SELECT version FROM search_state WHERE key = $1", STATE_KEY
            )
            return int(value or 0)
        value = await self._conn.scalar(
            select(SearchState.version).where(SearchState.key == STATE_KEY)
        )
        await self._conn.rollback()
        return int(value or 0)

    async def _drop_connection(self) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()

    async def close(self) -> None:
        """Give the connection back (app shutdown, before the engine is disposed)."""
        self._close_sqlite()
        async with self._lock:
            conn, self._conn, self._driver = self._conn, None, None
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()


async def catalogue_changed(session: AsyncSession) -> None:
    """Bump the version in the caller's transaction (once per transaction): for writes
    that reach cached facts without going through ProductIndexer (collections)."""
    await bump_version(session)


class VersionedIndexer:
    """Wraps the catalog's ProductIndexer: every product change bumps the version."""

    def __init__(self, inner: ProductIndexer) -> None:
        self.inner = inner

    async def product_changed(self, session: AsyncSession, product_id: str) -> None:
        await bump_version(session)
        await self.inner.product_changed(session, product_id)

    async def product_removed(self, session: AsyncSession, product_id: str) -> None:
        await bump_version(session)
        await self.inner.product_removed(session, product_id)


@dataclass(frozen=True)
class _Missing:
    message: str
    reason: str


_ABSENT = _Missing("not found", "")


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a shared load's failure retrieved, even when every caller left."""
    if not task.cancelled():
        task.exception()


@dataclass
class _Entry(Generic[T]):
    version: int
    value: T


class VersionedCache(Generic[T]):
    """key -> value, valid while the catalogue version is the one it was loaded at.

    Least recently used entries beyond `max_entries` are dropped. `get_or_load` loads
    a missing or outdated key once however many requests ask for it concurrently
    (they share the load and its outcome, NotFound included). `get_many` does the same
    for a batch of keys, loading all its misses with one call.
    """

    def __init__(self, versions: CatalogVersion, *, max_entries: int = 4096) -> None:
        self.versions = versions
        self.max_entries = max_entries
        self.loads = 0  # (tests, diagnostics)
        self._entries: OrderedDict[str, _Entry[T | _Missing]] = OrderedDict()
        self._loading: dict[tuple[str, int], asyncio.Future[T]] = {}
        self._batches: dict[tuple[str, int], asyncio.Task[dict[str, T]]] = {}

    async def get_many(
        self, keys: Sequence[str], load: Callable[[list[str]], Awaitable[dict[str, T]]]
    ) -> dict[str, T]:
        """key -> value for the keys that have one; `load(missing keys)` answers the
        misses (a key it leaves out has no value, and that answer is cached too).

        The batch load runs as a task of its own that requests missing the same keys
        at the same version share; a request that gives up (deadline) does not cancel
        it for the others, and its outcome is cached all the same.
        """
        if self.max_entries <= 0:
            return await load(list(keys))
        version = await self.versions.current()  # before loading: see the module doc
        out: dict[str, T] = {}
        todo: list[str] = []
        waits: dict[asyncio.Task[dict[str, T]], list[str]] = {}
        for key in keys:
            hit = self._entries.get(key)
            if hit is not None and hit.version == version:
                self._entries.move_to_end(key)
                if not isinstance(hit.value, _Missing):
                    out[key] = hit.value
                continue
            flight = self._batches.get((key, version))
            if flight is not None:
                waits.setdefault(flight, []).append(key)
            else:
                todo.append(key)
        if todo:
            task = asyncio.create_task(self._load_batch(todo, version, load))
            task.add_done_callback(_retrieve)
            for key in todo:
                self._batches[(key, version)] = task
            waits[task] = todo
        for flight, wanted in waits.items():
            got = await asyncio.shield(flight)
            out.update((k, got[k]) for k in wanted if k in got)
        return out

    async def _load_batch(
        self, keys: list[str], version: int, load: Callable[[list[str]], Awaitable[dict[str, T]]]
    ) -> dict[str, T]:
        try:
            self.loads += 1
            got = await load(keys)
            for key in keys:
                value = got.get(key)
                self._put(key, version, _ABSENT if value is None else value)
            return got
        finally:
            for key in keys:
                self._batches.pop((key, version), None)

    async def get_or_load(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        if self.max_entries <= 0:
            return await load()
        version = await self.versions.current()  # before loading: see the module doc
        hit = self._entries.get(key)
        if hit is not None and hit.version == version:
            self._entries.move_to_end(key)
            if isinstance(hit.value, _Missing):
                raise NotFound(hit.value.message, reason=hit.value.reason)
            return hit.value
        flight = self._loading.get((key, version))
        if flight is not None:
            return await asyncio.shield(flight)
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._loading[(key, version)] = fut
        try:
            self.loads += 1
            value = await load()
        except BaseException as exc:
            del self._loading[(key, version)]
            if isinstance(exc, NotFound):  # an answer about the data: cached too
                self._put(key, version, _Missing(exc.message, exc.reason))
            if isinstance(exc, Exception):
                fut.set_exception(exc)
                fut.exception()  # retrieved, even when nobody else waited
            else:
                fut.cancel()
            raise
        del self._loading[(key, version)]
        self._put(key, version, value)
        fut.set_result(value)
        return value

    def _put(self, key: str, version: int, value: T | _Missing) -> None:
        current = self._entries.get(key)
        if current is not None and current.version > version:
            return  # a newer load finished first
        self._entries[key] = _Entry(version, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
