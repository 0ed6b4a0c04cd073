"""Wiring: the settings service's database, outbox, event sink, handlers and servicers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from cleanse.common.v1 import events_pb2_grpc
from cleanse.order.v1 import events_pb2 as order_events_pb2
from cleanse.settings.v1 import (
    analytics_service_pb2_grpc,
    settings_admin_service_pb2_grpc,
    settings_internal_service_pb2_grpc,
    storefront_settings_service_pb2_grpc,
)
from mesh.cached import TtlCache
from mesh.db import Database, utcnow
from mesh.events import EventSink
from mesh.identity import JwksSource
from mesh.outbox import Outbox, OutboxRelay, RelaySettings
from mesh.server import ServiceApp
from services.settings import auth_users
from services.settings.config import Settings
from services.settings.handlers.analytics import AnalyticsHandlers
from services.settings.handlers.common import Changes, Clock, make_outbox
from services.settings.handlers.segments import OrderFacts, SegmentHandlers, SignupLookup
from services.settings.handlers.store import StoreHandlers
from services.settings.handlers.tax import TaxHandlers
from services.settings.models import PROCESSED_EVENTS
from services.settings.seed import seed_demo
from services.settings.servicer import (
    AnalyticsService,
    SettingsAdminService,
    SettingsInternalService,
    StorefrontSettingsService,
)

SERVICE = "settings"
ORDER_PLACED = "order.placed"
ORDER_REFUNDED = "order.refunded"


@dataclass
class SettingsApp:
    app: ServiceApp
    db: Database
    settings: Settings
    outbox: Outbox
    relay: OutboxRelay
    sink: EventSink
    store: StoreHandlers
    tax: TaxHandlers
    segments: SegmentHandlers
    analytics: AnalyticsHandlers

    def register_order_event(
        self, topic: str, payload_type: type[Message], to_facts: Callable[[Any], OrderFacts]
    ) -> None:
        """Feed customer figures from an order event ("order.placed" adds the order,
        "order.refunded" subtracts the refund). The order service defines the payload;
        `to_facts` reads user, order id, amount, delivery state and city from it."""
        refund = topic == ORDER_REFUNDED

        async def handle(session: Any, payload: Any, _event: Any) -> None:
            await self.segments.apply_order(session, to_facts(payload), refund=refund)

        # A guest's order has no customer to count it for: answered at once, without a
        # transaction or a processed-event row (a redelivery of it is as harmless).
        self.sink.register(topic, payload_type, handle, applies=lambda p: bool(to_facts(p).user_id))


def placed_facts(e: order_events_pb2.OrderPlacedEvent) -> OrderFacts:
    """A confirmed order adds its total to the customer's figures (guests: none)."""
    return OrderFacts(
        user_id=e.customer.removeprefix("users/"),
        order_id=e.order,
        amount_minor=e.total.amount_minor,
        state_code=e.state_code,
        city=e.city,
    )


def refunded_facts(e: order_events_pb2.OrderRefundedEvent) -> OrderFacts:
    """A processed refund subtracts its amount."""
    return OrderFacts(
        user_id=e.customer.removeprefix("users/"),
        order_id=e.order,
        amount_minor=e.amount.amount_minor,
        state_code=e.state_code,
        city=e.city,
    )


def build(
    db: Database,
    settings: Settings | None = None,
    *,
    clock: Clock = utcnow,
    relay_settings: RelaySettings | None = None,
    jwks_source: JwksSource | None = None,
    signups: SignupLookup | None = None,
) -> SettingsApp:
    settings = settings or Settings.from_env()
    app = ServiceApp(SERVICE, readiness=db.ready, jwks_source=jwks_source)
    outbox = make_outbox(db)
    relay = OutboxRelay(db, outbox, relay_settings)
    cache = TtlCache(ttl=settings.read_cache_seconds)
    changes = Changes(outbox, cache)
    store = StoreHandlers(db, changes, cache, clock)
    tax = TaxHandlers(db, changes, clock)
    segments = SegmentHandlers(db, changes, signups or auth_users.signup_time, clock)
    analytics = AnalyticsHandlers(db, settings, clock)
    sink = EventSink(db, PROCESSED_EVENTS)
    app.add(
        settings_admin_service_pb2_grpc.add_SettingsAdminServiceServicer_to_server,
        SettingsAdminService(store, tax, segments),
    )
    app.add(
        storefront_settings_service_pb2_grpc.add_StorefrontSettingsServiceServicer_to_server,
        StorefrontSettingsService(store),
    )
    app.add(
        settings_internal_service_pb2_grpc.add_SettingsInternalServiceServicer_to_server,
        SettingsInternalService(store, tax, segments),
    )
    app.add(
        analytics_service_pb2_grpc.add_AnalyticsServiceServicer_to_server,
        AnalyticsService(analytics),
    )
    app.add(events_pb2_grpc.add_EventSinkServiceServicer_to_server, sink)
    wired = SettingsApp(app, db, settings, outbox, relay, sink, store, tax, segments, analytics)
    wired.register_order_event("order.placed", order_events_pb2.OrderPlacedEvent, placed_facts)
    wired.register_order_event(
        "order.refunded", order_events_pb2.OrderRefundedEvent, refunded_facts
    )

    async def startup() -> None:
        await db.migrate()
        if settings.seed_demo:
            await seed_demo(db)
        await relay.start()

    async def shutdown() -> None:
        await relay.stop()
        await db.dispose()

    app.on_startup(startup)
    app.on_shutdown(shutdown)
    return wired
