"""A pricing service in-process on an ephemeral port, called over real gRPC, with fake
catalog, settings and inventory peers (real gRPC servers on their own port).

One pricing server per database back end for the whole session; tests keep out of
each other's way with their own variant ids and coupon codes.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from cleanse.pricing.v1 import (
    coupon_hold_service_pb2_grpc,
    pricing_admin_service_pb2_grpc,
    pricing_service_pb2_grpc,
)
from mesh import client
from mesh.db import Database
from services.pricing.app import PricingApp, build
from services.pricing.config import Settings
from services.pricing.shipping import ShippingQuotes
from tests.conftest import free_address, service_database_fixture
from tests.pricing.fakes import Peers, snapshot, start_peers
from tests.support.rpc import TestKeys

ADMIN_PERMS = ("pricing.read", "pricing.write")

pricing_database_url = service_database_fixture("pricing")


@dataclass
class Pricing:
    wired: PricingApp
    peers: Peers
    channel: grpc.aio.Channel
    keys: TestKeys
    backend: str
    public: pricing_service_pb2_grpc.PricingServiceStub = field(init=False)
    admin: pricing_admin_service_pb2_grpc.PricingAdminServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.public = pricing_service_pb2_grpc.PricingServiceStub(self.channel)
        self.admin = pricing_admin_service_pb2_grpc.PricingAdminServiceStub(self.channel)

    @property
    def holds(self) -> coupon_hold_service_pb2_grpc.CouponHoldServiceStub:
        """As the order service: through mesh.client (internal token)."""
        return client.stub("pricing", coupon_hold_service_pb2_grpc.CouponHoldServiceStub)

    @property
    def internal(self) -> pricing_service_pb2_grpc.PricingServiceStub:
        return client.stub("pricing", pricing_service_pb2_grpc.PricingServiceStub)

    def token(self, role: str = "admin", subject: str = "adminUsers/a1", perms=ADMIN_PERMS) -> str:
        perms = perms if role == "admin" else ()
        return self.keys.mint(role, perms, sub=subject, ttl=600)

    def md(self, **kw: Any) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token(**kw)}"),)

    def customer_md(self, user_id: str) -> tuple[tuple[str, str], ...]:
        return self.md(role="customer", subject=f"users/{user_id}")

    def variant(self, price: int, mrp: int = 0, **kw: Any) -> str:
        vid = f"var_{secrets.token_hex(5)}"
        self.peers.catalog.variants[vid] = snapshot(vid, price, mrp, **kw)
        return vid

    def invalidate(self) -> None:
        self.wired.quoter.invalidate()
        self.wired.peers.variant_cache.clear()
        self.wired.peers.settings_cache.clear()
        self.wired.peers.stock_cache.clear()


@pytest.fixture(scope="session")
async def pricing(pricing_database_url: str) -> AsyncIterator[Pricing]:
    peers = await start_peers()
    mp = pytest.MonkeyPatch()
    mp.setenv("CLEANSE_PRICING_ADDR", str(free_address()))
    mp.setenv("CLEANSE_PRICING_METRICS_ADDR", str(free_address()))
    for name in ("catalog", "settings", "inventory"):
        mp.setenv(f"CLEANSE_{name.upper()}_ADDR", peers.address)
    keys = TestKeys.generate("test")
    db = Database("pricing", pricing_database_url)
    settings = Settings(
        seed_demo=False,
        sweep_interval_seconds=3600,
        stacking_cap_bp=5000,
        variant_cache_seconds=0.001,
        settings_cache_seconds=0.001,
        rules_cache_seconds=0.001,
        dependency_timeout_seconds=1.0,
    )
    # The shared server prices shipping at the flat rate (no shipping peer), so the
    # figures here never depend on a shipping service; test_shipping_quotes.py swaps
    # in the remote quote against a fake ShippingInternalService.
    wired = build(db, settings, jwks_source=keys.source, shipping=ShippingQuotes())
    await wired.app.start()
    saved = client.settings()
    client.configure("order")  # the test process calls as the order service would
    client.update_settings(breaker_reset_timeout=0.1, backoff_base=0.001, backoff_cap=0.01)
    channel = grpc.aio.insecure_channel(str(wired.app.address))
    backend = "sqlite" if db.is_sqlite else "postgres"
    try:
        yield Pricing(wired, peers, channel, keys, backend)
    finally:
        await channel.close()
        await wired.app.stop()
        await client.close_all()
        client.update_settings(**saved.__dict__)
        await peers.server.stop(0)
        mp.undo()
