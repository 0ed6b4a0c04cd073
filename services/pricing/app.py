"""Wiring: the pricing service's database, peers, handlers, sweeper and servicers."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from cleanse.common.v1 import events_pb2_grpc
from cleanse.pricing.v1 import (
    coupon_hold_service_pb2_grpc,
    pricing_admin_service_pb2_grpc,
    pricing_service_pb2_grpc,
)
from cleanse.settings.v1 import events_pb2 as settings_events_pb2
from mesh.db import Database, utcnow
from mesh.events import EventSink
from mesh.identity import JwksSource
from mesh.server import ServiceApp
from services.pricing.config import Settings
from services.pricing.handlers.admin import AdminHandlers
from services.pricing.handlers.common import Clock
from services.pricing.handlers.holds import HoldHandlers
from services.pricing.handlers.quote import Quoter
from services.pricing.models import PROCESSED_EVENTS
from services.pricing.peers import Peers
from services.pricing.seed import seed_demo
from services.pricing.servicer import CouponHoldService, PricingAdminService, PricingService
from services.pricing.shipping import ShippingQuotes

SERVICE = "pricing"


@dataclass
class PricingApp:
    app: ServiceApp
    db: Database
    settings: Settings
    peers: Peers
    quoter: Quoter
    holds: HoldHandlers
    admin: AdminHandlers
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build(
    db: Database,
    settings: Settings | None = None,
    *,
    clock: Clock = utcnow,
    jwks_source: JwksSource | None = None,
    shipping: ShippingQuotes | None = None,
) -> PricingApp:
    settings = settings or Settings.from_env()
    app = ServiceApp(SERVICE, readiness=db.ready, jwks_source=jwks_source)
    peers = Peers(settings)
    if shipping is None:
        # Shipping's QuoteShipping whenever it answers, the flat rate when it does not.
        remote = peers.shipping_quote if settings.shipping_quotes else None
        shipping = ShippingQuotes(remote, settings.shipping_cache_seconds)
    quoter = Quoter(db, peers, settings, shipping, clock)
    holds = HoldHandlers(db, quoter, settings, clock)
    admin = AdminHandlers(
        db, peers, quoter.invalidate, clock, default_stacking_cap_bp=settings.stacking_cap_bp
    )
    app.add(pricing_service_pb2_grpc.add_PricingServiceServicer_to_server, PricingService(quoter))
    app.add(
        coupon_hold_service_pb2_grpc.add_CouponHoldServiceServicer_to_server,
        CouponHoldService(holds),
    )
    app.add(
        pricing_admin_service_pb2_grpc.add_PricingAdminServiceServicer_to_server,
        PricingAdminService(admin),
    )
    # settings.changed: drop cached checkout config, GST rates and places of supply
    # now, rather than after settings_cache_seconds.
    sink = EventSink(db, PROCESSED_EVENTS)

    @sink.handler("settings.changed", settings_events_pb2.SettingsChangedEvent)
    async def on_settings_changed(session, payload, event) -> None:
        peers.settings_cache.clear()

    app.add(events_pb2_grpc.add_EventSinkServiceServicer_to_server, sink)
    wired = PricingApp(app, db, settings, peers, quoter, holds, admin)

    async def startup() -> None:
        await db.migrate()
        if settings.seed_demo:
            await seed_demo(db, clock())
        wired._tasks.append(asyncio.create_task(holds.sweep_forever(), name="pricing-sweeper"))

    async def shutdown() -> None:
        for task in wired._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        wired._tasks.clear()
        await db.dispose()

    app.on_startup(startup)
    app.on_shutdown(shutdown)
    return wired
