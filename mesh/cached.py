"""A small read-through cache for values a service reads from another one.

    settings_cache = TtlCache(ttl=30.0)

    async def checkout_config() -> CheckoutConfig:
        return await settings_cache.get_or_fetch("checkout", fetch_checkout_config)

    settings_cache.invalidate("checkout")     # e.g. on a "settings.changed" event
    settings_cache.clear()

Per process, in memory. Concurrent misses for one key share a single fetch (no
stampede). A failed fetch caches nothing and raises to every waiter. With
`stale_if_error`, a failed refresh returns the expired value instead (a
dependency that is down keeps the last known settings). `cached_call` is the same
over a module-level default cache.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Clock = Callable[[], float]


@dataclass
class _Entry(Generic[T]):
    value: T
    expires_at: float


class TtlCache:
    """Key -> value for `ttl` seconds, with explicit invalidation."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 1024,
        stale_if_error: bool = False,
        clock: Clock = time.monotonic,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.ttl = ttl
        self.max_entries = max_entries
        self.stale_if_error = stale_if_error
        self._clock = clock
        self._entries: dict[Hashable, _Entry[Any]] = {}
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}
        self._generation = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        """The fresh cached value, or None."""
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self._clock():
            return None
        return entry.value

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        if len(self._entries) >= self.max_entries and key not in self._entries:
            self._evict()
        self._entries[key] = _Entry(value, self._clock() + (ttl or self.ttl))

    def _evict(self) -> None:
        now = self._clock()
        for k in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[k]
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # oldest inserted

    def invalidate(self, *keys: Hashable) -> None:
        """Drop `keys` (a fetch already running for one of them is not cached)."""
        self._generation += 1
        for k in keys:
            self._entries.pop(k, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    async def get_or_fetch(
        self, key: Hashable, fetch: Callable[[], Awaitable[T]], ttl: float | None = None
    ) -> T:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at > self._clock():
            self.hits += 1
            return entry.value  # type: ignore[no-any-return]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)  # type: ignore[no-any-return]
        self.misses += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        generation = self._generation
        try:
            value = await fetch()
        except BaseException as exc:
            if self.stale_if_error and entry is not None and isinstance(exc, Exception):
                future.set_result(entry.value)
                return entry.value  # type: ignore[no-any-return]
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            self._inflight.pop(key, None)
        if generation == self._generation:  # not invalidated while fetching
            self.put(key, value, ttl)
        future.set_result(value)
        return value


_default = TtlCache(ttl=30.0)


def default_cache() -> TtlCache:
    return _default


async def cached_call(
    key: Hashable, ttl: float, fetch: Callable[[], Awaitable[T]], *, cache: TtlCache | None = None
) -> T:
    """`fetch()` once per `ttl` seconds per key (module-wide cache unless given)."""
    return await (cache or _default).get_or_fetch(key, fetch, ttl)


def invalidate(*keys: Hashable, cache: TtlCache | None = None) -> None:
    (cache or _default).invalidate(*keys)
