"""The order service's settings, read once from the environment at start-up."""

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


@dataclass(frozen=True)
class Settings:
    # How long a checkout session's price quote holds.
    quote_ttl_seconds: int = 15 * 60
    # Stock held for a checkout session / a placed order awaiting payment.
    reservation_ttl_seconds: int = 30 * 60
    # Coupon holds outlive the reservation a little (the sweeper releases both).
    hold_ttl_seconds: int = 35 * 60
    # Cached checkout configuration from settings (served stale while settings is down).
    settings_cache_seconds: float = 30.0
    dependency_timeout_seconds: float = 3.0
    # The saga sweeper: how often, and how old a running saga must be to be resumed.
    sweep_interval_seconds: float = 30.0
    stale_saga_seconds: float = 120.0
    # With several replicas the sweeper runs on the one holding this lease (renewed
    # while it sweeps, at least every pass): another replica takes over this long
    # after the holder died, at once after it stopped cleanly.
    sweep_lease_seconds: float = 90.0
    # An edit's restock left PENDING by inventory being down is retried by the
    # sweeper: first this long after the failure, then twice as long each time (at
    # most an hour), at most `edit_restock_retry_batch` edits a sweep.
    edit_restock_retry_seconds: float = 60.0
    edit_restock_retry_batch: int = 50
    # Unpaid Razorpay orders are given up (holds released) after this long.
    payment_window_seconds: int = 30 * 60
    # How long a duplicate PlaceOrder waits for the first one to finish.
    duplicate_wait_seconds: float = 10.0
    order_number_prefix: str = "CL"

    def __post_init__(self) -> None:
        if min(self.quote_ttl_seconds, self.reservation_ttl_seconds, self.hold_ttl_seconds) <= 0:
            raise RuntimeError("order TTLs must be positive")
        if self.sweep_lease_seconds <= 0:
            raise RuntimeError("CLEANSE_ORDER_SWEEP_LEASE_SECONDS must be positive")
        if len(self.order_number_prefix) != 2 or not self.order_number_prefix.isupper():
            raise RuntimeError("CLEANSE_ORDER_NUMBER_PREFIX must be two capital letters")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()
        return cls(
            quote_ttl_seconds=int(
                _num(env, "CLEANSE_ORDER_QUOTE_TTL_SECONDS", d.quote_ttl_seconds)
            ),
            reservation_ttl_seconds=int(
                _num(env, "CLEANSE_ORDER_RESERVATION_TTL_SECONDS", d.reservation_ttl_seconds)
            ),
            hold_ttl_seconds=int(_num(env, "CLEANSE_ORDER_HOLD_TTL_SECONDS", d.hold_ttl_seconds)),
            settings_cache_seconds=_num(
                env, "CLEANSE_ORDER_SETTINGS_CACHE_SECONDS", d.settings_cache_seconds
            ),
            dependency_timeout_seconds=_num(
                env, "CLEANSE_ORDER_DEPENDENCY_TIMEOUT_SECONDS", d.dependency_timeout_seconds
            ),
            sweep_interval_seconds=_num(
                env, "CLEANSE_ORDER_SWEEP_SECONDS", d.sweep_interval_seconds
            ),
            sweep_lease_seconds=_num(
                env, "CLEANSE_ORDER_SWEEP_LEASE_SECONDS", d.sweep_lease_seconds
            ),
            edit_restock_retry_seconds=_num(
                env, "CLEANSE_ORDER_EDIT_RESTOCK_RETRY_SECONDS", d.edit_restock_retry_seconds
            ),
            payment_window_seconds=int(
                _num(env, "CLEANSE_ORDER_PAYMENT_WINDOW_SECONDS", d.payment_window_seconds)
            ),
            order_number_prefix=env.get("CLEANSE_ORDER_NUMBER_PREFIX", d.order_number_prefix),
        )
