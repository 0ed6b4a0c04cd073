"""The settings service's configuration, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.settings.domain.analytics import IngestLimits


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise RuntimeError(f"{name}={raw!r}: expected true or false")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected a number") from None


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: `burst` events at once, refilled at `per_second`."""

    per_second: float
    burst: float


@dataclass(frozen=True)
class Settings:
    seed_demo: bool = True  # CLEANSE_SETTINGS_SEED_DEMO
    # How long this service keeps its own reads of store settings / payment methods
    # (writes here invalidate at once; other replicas catch up within this).
    read_cache_seconds: float = 5.0  # CLEANSE_SETTINGS_READ_CACHE_SECONDS
    ingest: IngestLimits = field(default_factory=IngestLimits)
    # Analytics events per client IP and per anonymous id.
    ip_limit: RateLimit = RateLimit(per_second=5.0, burst=300.0)
    anonymous_limit: RateLimit = RateLimit(per_second=2.0, burst=120.0)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            seed_demo=_flag(env, "CLEANSE_SETTINGS_SEED_DEMO", True),
            read_cache_seconds=_float(env, "CLEANSE_SETTINGS_READ_CACHE_SECONDS", 5.0),
        )
