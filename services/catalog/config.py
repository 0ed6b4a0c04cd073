"""The catalog service's settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected a number") from None


@dataclass(frozen=True)
class Settings:
    # Load demo/catalog.yaml into an empty catalogue on start (CLEANSE_CATALOG_DEMO_DATA=0: off).
    demo_data: bool = True
    # Seconds a variant's stock answer is reused (listings, smart collections, product page).
    stock_cache_seconds: float = 5.0
    # Seconds a confirmed-active admin is trusted before asking auth again.
    admin_cache_seconds: float = 60.0
    # Seconds settings' list of tax classes is reused to check product writes (a class
    # not in the cached list is asked about again before it is refused).
    tax_class_cache_seconds: float = 60.0
    # Product pages (without stock) kept per process, per catalogue version; 0: off.
    storefront_cache_entries: int = 4096
    # Variant facts (internal BatchGetVariants) kept per process, per version; 0: off.
    variant_cache_entries: int = 16384
    # Searches are queued in memory and written every this many seconds (0: on the
    # request path, one transaction per search). A crash loses at most this window.
    search_log_flush_seconds: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        demo = env.get("CLEANSE_CATALOG_DEMO_DATA", "1").strip().lower()
        return cls(
            demo_data=demo not in ("0", "false", "no", "off"),
            stock_cache_seconds=_float(env, "CLEANSE_CATALOG_STOCK_CACHE_SECONDS", 5.0),
            admin_cache_seconds=_float(env, "CLEANSE_CATALOG_ADMIN_CACHE_SECONDS", 60.0),
            tax_class_cache_seconds=_float(env, "CLEANSE_CATALOG_TAX_CLASS_CACHE_SECONDS", 60.0),
            storefront_cache_entries=int(
                _float(env, "CLEANSE_CATALOG_STOREFRONT_CACHE_ENTRIES", 4096)
            ),
            variant_cache_entries=int(_float(env, "CLEANSE_CATALOG_VARIANT_CACHE_ENTRIES", 16384)),
            search_log_flush_seconds=_float(env, "CLEANSE_CATALOG_SEARCH_LOG_FLUSH_SECONDS", 1.0),
        )
