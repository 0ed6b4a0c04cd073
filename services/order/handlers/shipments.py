"""What the order service hears from shipping ("shipment.status_changed"), and the
return pickups it asks shipping for.

Forward shipments drive fulfilment: picked up / in transit / out for delivery ->
SHIPPED (through PACKED when the warehouse skipped it), delivered -> DELIVERED (a
COD order becomes paid). Return pickups: delivered back to the warehouse -> the
return is RECEIVED (ready for inspection). Each status change is recorded with the
actor "shipping". The event sink dedupes on the event id (mesh.events) and runs
this in the same transaction as the "processed" mark.

The order row is locked only for an event that will change something: the status
is checked first (CREATED, FAILED_DELIVERY, RTO, LOST, CANCELLED ... are logged and
change nothing), and a forward event is checked against the order's status read
without a lock (an "in transit" scan of an order already SHIPPED, a second
"delivered") before the row is locked and the move re-checked under the lock.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.shipping.v1 import events_pb2 as ship_events
from cleanse.shipping.v1 import resources_pb2 as ship_pb2
from cleanse.shipping.v1 import shipping_internal_service_pb2 as ship_internal
from cleanse.shipping.v1 import shipping_internal_service_pb2_grpc as ship_grpc
from mesh import client
from mesh.db import utcnow
from mesh.outbox import Outbox
from services.order import convert
from services.order import repository as repo
from services.order.domain import states
from services.order.domain.states import Status
from services.order.handlers.common import Clock, transition
from services.order.handlers.notify import return_status_changed
from services.order.models import Order, OrderItem, Return
from services.order.peers import guarded

log = logging.getLogger("cleanse.order.shipments")
SHIPMENT_STATUS_CHANGED = "shipment.status_changed"
ACTOR = "shipping"
FORWARD_PATH = (Status.CONFIRMED, Status.PACKED, Status.SHIPPED, Status.DELIVERED)
S = ship_pb2.ShipmentStatus
MOVING = (
    S.SHIPMENT_STATUS_PICKED_UP,
    S.SHIPMENT_STATUS_IN_TRANSIT,
    S.SHIPMENT_STATUS_OUT_FOR_DELIVERY,
)
# The shipment statuses this service acts on; every other one changes nothing.
APPLIED = (*MOVING, S.SHIPMENT_STATUS_DELIVERED)


def shipment_event_applies(payload: ship_events.ShipmentStatusChangedEvent) -> bool:
    """Whether the event can change an order (the sink skips the others unrecorded)."""
    return payload.status in APPLIED


def advances(current: Status, target: Status) -> bool:
    """True when `current` is on the forward path before `target`."""
    return current in FORWARD_PATH and FORWARD_PATH.index(current) < FORWARD_PATH.index(target)


def walk(s: AsyncSession, order: Order, target: Status, now: Any, note: str) -> bool:
    """Move forward along CONFIRMED -> PACKED -> SHIPPED -> DELIVERED up to `target`;
    False when the order is elsewhere (cancelled, already past it)."""
    current = Status(order.status)
    if not advances(current, target):
        return False
    for step in FORWARD_PATH[FORWARD_PATH.index(current) + 1 : FORWARD_PATH.index(target) + 1]:
        transition(s, order, step, now, reason=note, who=ACTOR)
        if states.cod_paid_on(step, order.payment_provider) and not order.paid:
            order.paid = True
    return True


class ShipmentEvents:
    def __init__(self, clock: Clock = utcnow, outbox: Outbox | None = None) -> None:
        self.clock = clock
        self.outbox = outbox

    async def on_status_changed(
        self, s: AsyncSession, payload: ship_events.ShipmentStatusChangedEvent, _event: Any
    ) -> None:
        order_id = payload.order.rsplit("/", 1)[-1]
        note = f"{payload.carrier} {payload.awb} {S.Name(payload.status)}".strip()
        if payload.status not in APPLIED:  # checked before anything is read or locked
            log.info(
                "shipment status not applied to the order",
                extra={"status": note, "order": payload.order},
            )
            return
        if payload.direction == ship_pb2.SHIPMENT_DIRECTION_RETURN:
            order = await repo.locked(s, Order, order_id)
            if not isinstance(order, Order):
                log.warning("shipment for an unknown order", extra={"order": payload.order})
                return
            await self._return_leg(s, order, payload)
            return
        delivered = payload.status == S.SHIPMENT_STATUS_DELIVERED
        target = Status.DELIVERED if delivered else Status.SHIPPED
        status = await s.scalar(select(Order.status).where(Order.id == order_id))
        if status is None:
            log.warning("shipment for an unknown order", extra={"order": payload.order})
            return
        if not advances(Status(status), target):  # already there, past it, or cancelled
            log.info(
                "shipment status leaves the order as it is",
                extra={"status": note, "order": payload.order, "order_status": status},
            )
            return
        order = await repo.locked(s, Order, order_id)
        if not isinstance(order, Order):  # orders are never deleted; defensive
            return
        now = self.clock()
        # walk re-checks under the lock: the order may have moved since the read above.
        if walk(s, order, target, now, note) and delivered and order.paid:
            payment = await repo.latest_payment(s, order.id)
            if payment is not None and payment.state == "PENDING_ON_DELIVERY":
                payment.state = "COLLECTED"
                payment.update_time = now

    async def _return_leg(
        self, s: AsyncSession, order: Order, payload: ship_events.ShipmentStatusChangedEvent
    ) -> None:
        rid = payload.return_request.rsplit("/", 1)[-1]
        row = await s.get(Return, rid) if rid else None
        if row is None:
            return
        if payload.status in MOVING and not row.pickup.startswith("shipments/"):
            row.pickup = payload.shipment
        if payload.status == S.SHIPMENT_STATUS_DELIVERED and row.state == "APPROVED":
            row.state = "RECEIVED"
            if self.outbox is not None:
                await return_status_changed(self.outbox, s, order, row)
        row.update_time = self.clock()


async def request_return_pickup(order: Order, ret: Return, items: list[OrderItem]) -> str:
    """Ask shipping for a reverse pickup; "shipments/.." or raises Unavailable."""
    by_variant = {i.variant_id: i for i in items}
    stub = client.stub("shipping", ship_grpc.ShippingInternalServiceStub)
    req = ship_internal.CreateReturnPickupRequest(
        request_id=f"return-{ret.id}",
        order=f"orders/{order.id}",
        order_number=order.order_number,
        return_request=f"orders/{order.id}/returns/{ret.id}",
        pickup_address=convert.address_out(order.address),
        items=[
            ship_pb2.ShipmentItem(
                variant_id=ln["variant_id"],
                sku=by_variant[ln["variant_id"]].sku if ln["variant_id"] in by_variant else "",
                title=by_variant[ln["variant_id"]].product_name
                if ln["variant_id"] in by_variant
                else "",
                quantity=ln["quantity"],
            )
            for ln in ret.lines
        ],
        email=order.email,
    )
    shipment = await guarded(
        "shipping", "a return pickup cannot be booked", lambda: stub.CreateReturnPickup(req)
    )
    return str(shipment.name)
