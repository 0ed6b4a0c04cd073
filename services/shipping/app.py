"""Wiring: the shipping service's database, outbox relay, event sink, carriers, booker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from cleanse.common.v1 import events_pb2_grpc
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.shipping.v1 import (
    carrier_webhook_service_pb2_grpc,
    shipping_admin_service_pb2_grpc,
    shipping_internal_service_pb2_grpc,
    shipping_service_pb2_grpc,
)
from mesh.db import Database
from mesh.events import EventSink
from mesh.identity import JwksSource
from mesh.outbox import Outbox, OutboxRelay, RelaySettings
from mesh.server import ServiceApp
from services.shipping.carriers.aggregator import AggregatorCarrier
from services.shipping.carriers.base import CarrierAdapter, ManualCarrier
from services.shipping.config import Settings
from services.shipping.handlers.config import ConfigHandlers
from services.shipping.handlers.order_updates import ORDER_UPDATED, OrderUpdates
from services.shipping.handlers.orders import OrderEvents, ShippingEventSink
from services.shipping.handlers.shipments import ShipmentHandlers, Warehouses
from services.shipping.models import OUTBOX, PROCESSED
from services.shipping.secrets import SecretBox
from services.shipping.seed import seed_demo, warehouse_address
from services.shipping.servicer import (
    CarrierWebhookService,
    ShippingAdminService,
    ShippingInternalService,
    ShippingService,
)

SERVICE = "shipping"
ORDER_PLACED = "order.placed"
log = logging.getLogger("services.shipping")


@dataclass
class ShippingApp:
    app: ServiceApp
    db: Database
    settings: Settings
    outbox: Outbox
    relay: OutboxRelay
    sink: EventSink
    config: ConfigHandlers
    shipments: ShipmentHandlers
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build(
    db: Database,
    settings: Settings | None = None,
    *,
    relay_settings: RelaySettings | None = None,
    jwks_source: JwksSource | None = None,
    warehouses: Warehouses = warehouse_address,
) -> ShippingApp:
    settings = settings or Settings.from_env()
    app = ServiceApp(SERVICE, readiness=db.ready, jwks_source=jwks_source)
    box = SecretBox(settings.secrets_key)
    outbox = Outbox(OUTBOX, SERVICE, db)
    relay = OutboxRelay(db, outbox, relay_settings)
    adapters: dict[str, CarrierAdapter] = {
        "MANUAL": ManualCarrier(),
        "AGGREGATOR": AggregatorCarrier(settings.aggregator),
    }
    config = ConfigHandlers(db, box)
    shipments = ShipmentHandlers(
        db,
        outbox,
        box,
        adapters,
        warehouses,
        settings.default_carrier,
        config.route_carrier,
        config.cache,
        booking_lease_seconds=settings.booking_lease_seconds,
    )
    orders = OrderEvents(shipments, settings)
    sink = ShippingEventSink(db, PROCESSED, orders)
    sink.register(ORDER_PLACED, order_events.OrderPlacedEvent, orders.on_order_placed)
    sink.register(
        ORDER_UPDATED,
        order_events.OrderUpdatedEvent,
        OrderUpdates(shipments, settings).on_order_updated,
    )
    app.add(
        shipping_admin_service_pb2_grpc.add_ShippingAdminServiceServicer_to_server,
        ShippingAdminService(config, shipments),
    )
    app.add(
        shipping_service_pb2_grpc.add_ShippingServiceServicer_to_server, ShippingService(config)
    )
    app.add(
        shipping_internal_service_pb2_grpc.add_ShippingInternalServiceServicer_to_server,
        ShippingInternalService(config, shipments),
    )
    app.add(
        carrier_webhook_service_pb2_grpc.add_CarrierWebhookServiceServicer_to_server,
        CarrierWebhookService(shipments),
    )
    app.add(events_pb2_grpc.add_EventSinkServiceServicer_to_server, sink)
    wired = ShippingApp(app, db, settings, outbox, relay, sink, config, shipments)

    async def booker() -> None:
        """Books new shipments as soon as their transaction commits (they are handed
        over in memory and `wake` is set), and sweeps the table every
        `booking_interval_seconds` for the rest: retries after a failure, shipments
        created before a restart or by another replica."""
        interval = settings.booking_interval_seconds
        next_sweep = 0.0
        while True:
            shipments.wake.clear()
            try:
                await shipments.book_queued()
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + interval
                    await shipments.book_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("AWB booking cycle failed")
            with contextlib.suppress(TimeoutError):
                timeout = max(next_sweep - time.monotonic(), 0.0)
                await asyncio.wait_for(shipments.wake.wait(), timeout)

    async def startup() -> None:
        await db.migrate()
        if settings.seed_demo:
            await seed_demo(db, box, settings.aggregator.webhook_secret)
        await relay.start()
        # No adapter that books by itself is configured (an aggregator without its
        # base URL): nothing to book, so no loop polling for it.
        if shipments.books_anything:
            wired._tasks.append(asyncio.create_task(booker(), name="shipping-booker"))
        else:
            log.info("no carrier adapter books automatically: the AWB booker is off")

    async def shutdown() -> None:
        for task in wired._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        wired._tasks.clear()
        await relay.stop()
        for adapter in adapters.values():
            await adapter.aclose()
        await db.dispose()

    app.on_startup(startup)
    app.on_shutdown(shutdown)
    return wired
