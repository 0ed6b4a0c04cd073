"""Wiring: the order service's database, outbox relay, peers, saga sweeper and servicers.

Background work, replica by replica (services/order/README.md, "Replicas"): the
outbox relay runs on every replica (claims rows with FOR UPDATE SKIP LOCKED); the
sweeper (`checkout.sweep_forever`: the saga sweeper, refunds.retry_pending,
edits.retry_restocks) runs on the one replica holding the lease "order.sweeper".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from cleanse.common.v1 import events_pb2_grpc
from cleanse.order.v1 import (
    cart_internal_service_pb2_grpc,
    cart_service_pb2_grpc,
    checkout_service_pb2_grpc,
    order_admin_service_pb2_grpc,
    order_service_pb2_grpc,
    payment_webhook_service_pb2_grpc,
)
from cleanse.shipping.v1 import events_pb2 as ship_events
from mesh.db import Database, utcnow
from mesh.events import EventSink
from mesh.identity import JwksSource
from mesh.leases import Lease
from mesh.outbox import Outbox, OutboxRelay, RelaySettings
from mesh.server import ServiceApp
from services.order.config import Settings
from services.order.handlers.abandoned import AbandonedCarts
from services.order.handlers.carts import CartHandlers
from services.order.handlers.checkout import CheckoutHandlers
from services.order.handlers.common import Clock
from services.order.handlers.edits import EditHandlers
from services.order.handlers.invoices import InvoiceHandlers
from services.order.handlers.orders import OrderHandlers
from services.order.handlers.refunds import RefundHandlers
from services.order.handlers.returns import ReturnHandlers
from services.order.handlers.shipments import (
    SHIPMENT_STATUS_CHANGED,
    ShipmentEvents,
    shipment_event_applies,
)
from services.order.handlers.webhooks import WebhookHandlers
from services.order.models import LEASES, OUTBOX, PROCESSED_EVENTS
from services.order.payments.gateway import PaymentGateway
from services.order.peers import Peers
from services.order.servicer import (
    CartInternalService,
    CartService,
    CheckoutService,
    OrderAdminService,
    OrderService,
    PaymentWebhookService,
)

log = logging.getLogger("cleanse.order")

SERVICE = "order"
SWEEP_LEASE = "order.sweeper"


@dataclass
class OrderApp:
    app: ServiceApp
    db: Database
    settings: Settings
    outbox: Outbox
    relay: OutboxRelay
    peers: Peers
    carts: CartHandlers
    checkout: CheckoutHandlers
    orders: OrderHandlers
    webhooks: WebhookHandlers
    refunds: RefundHandlers
    returns: ReturnHandlers
    invoices: InvoiceHandlers
    edits: EditHandlers
    abandoned: AbandonedCarts
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build(
    db: Database,
    settings: Settings | None = None,
    *,
    gateway: PaymentGateway | None = None,
    clock: Clock = utcnow,
    relay_settings: RelaySettings | None = None,
    jwks_source: JwksSource | None = None,
) -> OrderApp:
    """`gateway` None: Razorpay methods are not offered (COD only), named degradation
    "razorpay.not_configured"."""
    settings = settings or Settings.from_env()
    app = ServiceApp(SERVICE, readiness=db.ready, jwks_source=jwks_source)
    outbox = Outbox(OUTBOX, SERVICE, db)
    relay = OutboxRelay(db, outbox, relay_settings)
    peers = Peers(
        settings_cache_seconds=settings.settings_cache_seconds,
        timeout=settings.dependency_timeout_seconds,
    )
    carts = CartHandlers(db, peers, clock)
    checkout = CheckoutHandlers(db, peers, outbox, settings, carts, gateway, clock)
    invoices = InvoiceHandlers(db, peers, clock)
    checkout.invoices = invoices
    refunds = RefundHandlers(db, checkout, outbox, clock)
    checkout.refund_owed = refunds.refund_in_full
    checkout.late_refund = refunds.refund_late_payment
    checkout.sweepers.append(refunds.retry_pending)
    orders = OrderHandlers(db, checkout, refunds, clock)
    returns = ReturnHandlers(db, checkout, refunds, clock)
    webhooks = WebhookHandlers(db, checkout, refunds, clock)
    edits = EditHandlers(db, checkout, refunds, clock)
    checkout.sweepers.append(edits.retry_restocks)  # restocks left PENDING, inventory down
    # One replica sweeps at a time (a single replica takes the lease too: it costs
    # one statement a pass, and a replica started later finds it taken).
    checkout.sweep_lease = Lease(
        db, LEASES, SWEEP_LEASE, ttl=settings.sweep_lease_seconds, service=SERVICE
    )
    abandoned = AbandonedCarts(db, peers, clock)
    app.add(
        cart_internal_service_pb2_grpc.add_CartInternalServiceServicer_to_server,
        CartInternalService(abandoned),
    )
    app.add(cart_service_pb2_grpc.add_CartServiceServicer_to_server, CartService(carts))
    app.add(
        checkout_service_pb2_grpc.add_CheckoutServiceServicer_to_server, CheckoutService(checkout)
    )
    app.add(
        order_service_pb2_grpc.add_OrderServiceServicer_to_server,
        OrderService(orders, returns, invoices),
    )
    app.add(
        order_admin_service_pb2_grpc.add_OrderAdminServiceServicer_to_server,
        OrderAdminService(orders, refunds, returns, edits),
    )
    app.add(
        payment_webhook_service_pb2_grpc.add_PaymentWebhookServiceServicer_to_server,
        PaymentWebhookService(webhooks),
    )
    sink = EventSink(db, PROCESSED_EVENTS)
    sink.register(
        SHIPMENT_STATUS_CHANGED,
        ship_events.ShipmentStatusChangedEvent,
        ShipmentEvents(clock, outbox).on_status_changed,
        applies=shipment_event_applies,
    )
    app.add(events_pb2_grpc.add_EventSinkServiceServicer_to_server, sink)
    wired = OrderApp(
        app,
        db,
        settings,
        outbox,
        relay,
        peers,
        carts,
        checkout,
        orders,
        webhooks,
        refunds,
        returns,
        invoices,
        edits,
        abandoned,
    )

    async def startup() -> None:
        await db.migrate()
        await relay.start()
        wired._tasks.append(asyncio.create_task(checkout.sweep_forever(), name="order-sweeper"))

    async def shutdown() -> None:
        for task in wired._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        wired._tasks.clear()
        if checkout.sweep_lease is not None and checkout.sweep_lease.held:
            try:  # another replica takes over at its next pass, not after the ttl
                await checkout.sweep_lease.release()
            except Exception:
                log.warning("could not release the sweeper's lease", exc_info=True)
        await relay.stop()
        if gateway is not None:
            await gateway.aclose()
        await db.dispose()

    app.on_startup(startup)
    app.on_shutdown(shutdown)
    return wired
