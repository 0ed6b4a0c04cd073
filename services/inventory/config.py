"""The inventory service's settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected an integer") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected a number") from None


@dataclass(frozen=True)
class Settings:
    # Load the demo warehouses and stock on first start (CLEANSE_INVENTORY_SEED_DEMO=0: off).
    seed_demo: bool = True
    # Storefront "only N left" threshold where a variant has no reorder point.
    low_stock_threshold: int = 5
    default_ttl_seconds: int = 15 * 60
    max_ttl_seconds: int = 24 * 3600
    # How often the sweeper releases lapsed holds.
    sweep_interval_seconds: float = 5.0

    def __post_init__(self) -> None:
        if self.low_stock_threshold < 0:
            raise RuntimeError("CLEANSE_INVENTORY_LOW_STOCK_THRESHOLD must not be negative")
        if not 0 < self.default_ttl_seconds <= self.max_ttl_seconds:
            raise RuntimeError("reservation TTL must be positive and at most the maximum")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            seed_demo=env.get("CLEANSE_INVENTORY_SEED_DEMO", "1").lower()
            not in ("0", "false", "no"),
            low_stock_threshold=_int(env, "CLEANSE_INVENTORY_LOW_STOCK_THRESHOLD", 5),
            default_ttl_seconds=_int(env, "CLEANSE_INVENTORY_RESERVATION_TTL_SECONDS", 15 * 60),
            sweep_interval_seconds=_float(env, "CLEANSE_INVENTORY_SWEEP_SECONDS", 5.0),
        )
