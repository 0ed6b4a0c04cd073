"""The shipping service's settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mesh.identity import INTERNAL_SECRET_ENV

AGGREGATOR_BASE_URL_ENV = "CLEANSE_SHIPPING_AGGREGATOR_BASE_URL"
AGGREGATOR_EMAIL_ENV = "CLEANSE_SHIPPING_AGGREGATOR_EMAIL"
AGGREGATOR_PASSWORD_ENV = "CLEANSE_SHIPPING_AGGREGATOR_PASSWORD"
AGGREGATOR_WEBHOOK_SECRET_ENV = "CLEANSE_SHIPPING_AGGREGATOR_WEBHOOK_SECRET"


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "")
    return default if not raw else raw.lower() not in ("0", "false", "no")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected an integer") from None


@dataclass(frozen=True)
class AggregatorConfig:
    """Where the Shiprocket-like aggregator API is; its base URL is configuration."""

    base_url: str = ""
    email: str = ""
    password: str = ""
    # Demo data seeds the aggregator carrier with this webhook secret.
    webhook_secret: str = ""

    def __repr__(self) -> str:  # never print a secret
        return f"AggregatorConfig(base_url={self.base_url!r}, email={self.email!r})"

    @property
    def configured(self) -> bool:
        return bool(self.base_url)


@dataclass(frozen=True)
class Settings:
    # Demo zones, carriers, methods and PINs on first start (CLEANSE_SHIPPING_SEED_DEMO=0).
    seed_demo: bool = True
    secrets_key: str = ""
    aggregator: AggregatorConfig = AggregatorConfig()
    # The carrier for shipments whose PIN and method name none.
    default_carrier: str = "manual"
    # Unit weight when the order event carries none.
    default_unit_weight_grams: int = 250
    # The warehouse when neither the event nor the reservation names one.
    default_warehouse: str = "blr-1"
    # How often AWBs are booked with the aggregator for new shipments (seconds).
    booking_interval_seconds: float = 5.0
    # How long a booker's claim on a shipment holds while it calls the carrier: longer
    # than a booking can take (the aggregator: three calls of at most 10 s each, and a
    # fresh login); after it the sweep may book the shipment (its booker died).
    booking_lease_seconds: float = 120.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            seed_demo=_flag(env, "CLEANSE_SHIPPING_SEED_DEMO", True),
            secrets_key=env.get("CLEANSE_SHIPPING_SECRETS_KEY") or env.get(INTERNAL_SECRET_ENV, ""),
            aggregator=AggregatorConfig(
                base_url=env.get(AGGREGATOR_BASE_URL_ENV, "").rstrip("/"),
                email=env.get(AGGREGATOR_EMAIL_ENV, ""),
                password=env.get(AGGREGATOR_PASSWORD_ENV, ""),
                webhook_secret=env.get(AGGREGATOR_WEBHOOK_SECRET_ENV, ""),
            ),
            default_carrier=env.get("CLEANSE_SHIPPING_DEFAULT_CARRIER", "manual"),
            default_unit_weight_grams=_int(env, "CLEANSE_SHIPPING_DEFAULT_UNIT_WEIGHT_GRAMS", 250),
            default_warehouse=env.get("CLEANSE_SHIPPING_DEFAULT_WAREHOUSE", "blr-1"),
            booking_lease_seconds=float(_int(env, "CLEANSE_SHIPPING_BOOKING_LEASE_SECONDS", 120)),
        )
