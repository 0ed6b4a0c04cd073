"""mesh.cached: TTL, explicit invalidation, one fetch for concurrent misses, stale on error."""

from __future__ import annotations

import asyncio

import pytest

from mesh.cached import TtlCache, cached_call, invalidate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_ttl_and_invalidation() -> None:
    clock = Clock()
    cache = TtlCache(ttl=10, clock=clock)
    calls = 0

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await cache.get_or_fetch("k", fetch) == 1
    assert await cache.get_or_fetch("k", fetch) == 1
    clock.now = 10.5
    assert await cache.get_or_fetch("k", fetch) == 2
    cache.invalidate("k")
    assert await cache.get_or_fetch("k", fetch) == 3
    assert (cache.hits, cache.misses) == (1, 3)


async def test_concurrent_misses_share_one_fetch_and_errors_are_not_cached() -> None:
    cache = TtlCache(ttl=10)
    calls = 0

    async def slow() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return "v"

    assert await asyncio.gather(*(cache.get_or_fetch("k", slow) for _ in range(10))) == ["v"] * 10
    assert calls == 1

    async def boom() -> str:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        await cache.get_or_fetch("x", boom)
    assert cache.get("x") is None


async def test_stale_if_error_and_invalidated_during_fetch() -> None:
    clock = Clock()
    cache = TtlCache(ttl=1, stale_if_error=True, clock=clock)

    async def first() -> str:
        return "old"

    async def down() -> str:
        raise ConnectionError("settings down")

    await cache.get_or_fetch("k", first)
    clock.now = 5
    assert await cache.get_or_fetch("k", down) == "old"

    async def invalidated_meanwhile() -> str:
        cache.invalidate("k")
        return "racing"

    assert await cache.get_or_fetch("k", invalidated_meanwhile) == "racing"
    assert cache.get("k") is None  # a value fetched across an invalidation is not kept


async def test_cached_call_helper() -> None:
    n = 0

    async def fetch() -> int:
        nonlocal n
        n += 1
        return n

    assert await cached_call("t-key", 30, fetch) == 1
    assert await cached_call("t-key", 30, fetch) == 1
    invalidate("t-key")
    assert await cached_call("t-key", 30, fetch) == 2
