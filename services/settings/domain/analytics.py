"""Analytics ingest rules: batch and property caps, client-time clamping, rate limits."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class IngestLimits:
    max_events: int = 50
    max_properties: int = 20
    max_key_chars: int = 40
    max_value_chars: int = 256
    max_id_chars: int = 64
    # A client clock further off than this is ignored (server time is used).
    max_clock_skew: timedelta = timedelta(days=1)


def event_time(client: datetime | None, received: datetime, limits: IngestLimits) -> datetime:
    if client is None or abs(client - received) > limits.max_clock_skew:
        return received
    return client


class TokenBucket:
    """Per-key token buckets: `burst` tokens, refilled at `rate` per second.

    In memory, per process: with N replicas a client may get up to N times the
    rate (the edge's own limits sit in front). Old keys are dropped as they fill up.
    """

    def __init__(
        self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)

    def retry_after(self, key: str, cost: float) -> float | None:
        """None when `cost` tokens are available now, else seconds until they are."""
        now = self._clock()
        level = self._level(key, now)
        if level >= cost:
            return None
        return (cost - level) / self.rate if self.rate > 0 else 3600.0

    def take(self, key: str, cost: float) -> None:
        now = self._clock()
        self._buckets[key] = (self._level(key, now) - cost, now)
        if len(self._buckets) > 100_000:
            self._prune(now)

    def _prune(self, now: float) -> None:
        full = [k for k in self._buckets if self._level(k, now) >= self.burst]
        for k in full:
            del self._buckets[k]
