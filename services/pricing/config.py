"""The pricing service's settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _num(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected a number") from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "")
    if not raw:
        return default
    return raw.lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    # Load the demo coupons and promotions on first start (CLEANSE_PRICING_SEED_DEMO=0: off).
    seed_demo: bool = True
    # Most all discounts of one cart together may take off its subtotal, in basis points:
    # the default until an admin sets PricingSettings (stored in pricing_settings).
    stacking_cap_bp: int = 5000
    hold_ttl_seconds: int = 15 * 60
    max_hold_ttl_seconds: int = 24 * 3600
    sweep_interval_seconds: float = 5.0
    # Cache lifetimes (README "Caches"): catalog variants, settings reads, own rules.
    variant_cache_seconds: float = 5.0
    settings_cache_seconds: float = 30.0
    rules_cache_seconds: float = 2.0
    # Deadline for one catalog/settings/inventory/shipping read on the price path.
    dependency_timeout_seconds: float = 2.0
    # Shipping charge from the shipping service's QuoteShipping whenever it answers
    # (services/pricing/shipping.py); off: settings' flat rate only.
    shipping_quotes: bool = True
    shipping_cache_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.stacking_cap_bp <= 10_000:
            raise RuntimeError("CLEANSE_PRICING_STACKING_CAP_PERCENT must be within 0..100")
        if not 0 < self.hold_ttl_seconds <= self.max_hold_ttl_seconds:
            raise RuntimeError("coupon hold TTL must be positive and at most 24 hours")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()
        return cls(
            seed_demo=_flag(env, "CLEANSE_PRICING_SEED_DEMO", True),
            stacking_cap_bp=int(_num(env, "CLEANSE_PRICING_STACKING_CAP_PERCENT", 50) * 100),
            hold_ttl_seconds=int(_num(env, "CLEANSE_PRICING_HOLD_TTL_SECONDS", d.hold_ttl_seconds)),
            sweep_interval_seconds=_num(env, "CLEANSE_PRICING_SWEEP_SECONDS", 5.0),
            variant_cache_seconds=_num(env, "CLEANSE_PRICING_VARIANT_CACHE_SECONDS", 5.0),
            settings_cache_seconds=_num(env, "CLEANSE_PRICING_SETTINGS_CACHE_SECONDS", 30.0),
            rules_cache_seconds=_num(env, "CLEANSE_PRICING_RULES_CACHE_SECONDS", 2.0),
            dependency_timeout_seconds=_num(env, "CLEANSE_PRICING_DEPENDENCY_TIMEOUT_SECONDS", 2.0),
            shipping_quotes=_flag(env, "CLEANSE_PRICING_SHIPPING_QUOTES", True),
            shipping_cache_seconds=_num(env, "CLEANSE_PRICING_SHIPPING_CACHE_SECONDS", 5.0),
        )
