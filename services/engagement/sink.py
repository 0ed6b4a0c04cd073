"""Outbox events -> notifications, inside the EventSink's transaction.

`mesh.events.EventSink` records the event id and runs the handler in ONE
transaction: a redelivered event finds its id and does nothing, so each event makes
its notification rows exactly once. Sending happens later, in the dispatcher.

Handlers only read the payload (no network calls inside the transaction): a
recipient the event names only as "users/{id}" is looked up at send time.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.common.v1 import events_pb2
from cleanse.inventory.v1 import events_pb2 as inventory_events
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.order.v1 import resources_pb2 as order_resources
from cleanse.shipping.v1 import events_pb2 as shipping_events
from cleanse.shipping.v1 import resources_pb2 as shipping_resources
from mesh.events import EventSink
from services.engagement import catalogue as cat
from services.engagement.models import CartReminder, PlacedOrder
from services.engagement.notifier import Notifier, Recipient, Trigger

LOW_STOCK_TOPIC = "inventory.low_stock"
ORDER_PLACED_TOPIC = "order.placed"
ORDER_REFUNDED_TOPIC = "order.refunded"
PAYMENT_FAILED_TOPIC = "order.payment_failed"
RETURN_STATUS_TOPIC = "order.return_status_changed"
SHIPMENT_STATUS_TOPIC = "shipment.status_changed"

_S = shipping_resources.ShipmentStatus
_FORWARD_EVENTS = {
    _S.SHIPMENT_STATUS_PICKED_UP: cat.SHIPPED,
    _S.SHIPMENT_STATUS_OUT_FOR_DELIVERY: cat.OUT_FOR_DELIVERY,
    _S.SHIPMENT_STATUS_DELIVERED: cat.DELIVERED,
    _S.SHIPMENT_STATUS_FAILED_DELIVERY: cat.DELIVERY_FAILED,
}
_R = order_resources.ReturnState
_RETURN_STATE_TEXT = {
    _R.RETURN_STATE_REQUESTED: "requested",
    _R.RETURN_STATE_APPROVED: "approved",
    _R.RETURN_STATE_REJECTED: "rejected",
    _R.RETURN_STATE_RECEIVED: "received at our warehouse",
    _R.RETURN_STATE_COMPLETED: "inspected and refunded",
}
_RETURN_STATUS_TEXT = {
    _S.SHIPMENT_STATUS_CREATED: "pickup scheduled",
    _S.SHIPMENT_STATUS_PICKED_UP: "picked up",
    _S.SHIPMENT_STATUS_DELIVERED: "received at our warehouse",
    _S.SHIPMENT_STATUS_FAILED_DELIVERY: "pickup attempt failed",
}


def _id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


class Handlers:
    """The engagement service's event handlers, registered on its EventSink."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.settings = notifier.settings

    def register(self, sink: EventSink) -> None:
        sink.register(LOW_STOCK_TOPIC, inventory_events.LowStockEvent, self.low_stock)
        sink.register(ORDER_PLACED_TOPIC, order_events.OrderPlacedEvent, self.order_placed)
        sink.register(ORDER_REFUNDED_TOPIC, order_events.OrderRefundedEvent, self.order_refunded)
        sink.register(
            PAYMENT_FAILED_TOPIC, order_events.OrderPaymentFailedEvent, self.payment_failed
        )
        sink.register(
            RETURN_STATUS_TOPIC, order_events.OrderReturnStatusChangedEvent, self.return_status
        )
        sink.register(
            SHIPMENT_STATUS_TOPIC,
            shipping_events.ShipmentStatusChangedEvent,
            self.shipment_status_changed,
        )

    def order_url(self, order_number: str) -> str:
        return f"{self.settings.storefront_url}/orders/{order_number}"

    def _order_data(self, order: str, order_number: str, **extra: Any) -> dict[str, Any]:
        number = order_number or _id(order)
        return {
            "customer_name": "",
            "order": order,
            "order_number": number,
            "order_url": self.order_url(number),
            **extra,
        }

    async def low_stock(
        self, session: AsyncSession, p: inventory_events.LowStockEvent, ev: events_pb2.Event
    ) -> None:
        recipients = [Recipient(email=a) for a in self.settings.admin_emails]
        data = {
            "variant_id": p.variant_id,
            "warehouse": p.warehouse,
            "available": p.available,
            "on_hand": p.on_hand,
            "reorder_point": p.reorder_point,
        }
        await self.notifier.enqueue(
            session,
            Trigger(ev.event_id, cat.LOW_STOCK, data, recipients, channels=(cat.EMAIL,)),
        )

    async def order_placed(
        self, session: AsyncSession, p: order_events.OrderPlacedEvent, ev: events_pb2.Event
    ) -> None:
        data = self._order_data(
            p.order,
            p.order_number,
            total_paise=p.total.amount_minor,
            currency=p.total.currency_code or "INR",
            item_count=p.item_count,
            payment_method=p.payment_method,
        )
        await self.notifier.enqueue(
            session,
            Trigger(
                ev.event_id,
                cat.ORDER_PLACED,
                data,
                [Recipient(email=p.email, user=p.customer)],
                channels=(cat.EMAIL,),
            ),
        )
        # No abandoned-cart reminder for this customer's earlier carts any more.
        placed_at = ev.occurred_at.ToDatetime(tzinfo=UTC)
        for key in {k for k in (p.customer, p.email.lower()) if k}:
            await record_order(session, self.notifier.db.dialect, key, placed_at)
        conditions = []
        if p.customer:
            conditions.append(CartReminder.user == p.customer)
        if p.email:
            conditions.append(CartReminder.email == p.email.lower())
        if conditions:
            await session.execute(
                update(CartReminder)
                .where(or_(*conditions), CartReminder.closed_at.is_(None))
                .values(closed_at=placed_at)
            )

    async def order_refunded(
        self, session: AsyncSession, p: order_events.OrderRefundedEvent, ev: events_pb2.Event
    ) -> None:
        data = self._order_data(
            p.order,
            p.order_number,
            refund_paise=p.amount.amount_minor,
            refund_reference=_id(p.refund) if p.refund else "",
        )
        if not (p.customer or p.email or p.phone):
            return  # nobody to tell
        recipient = Recipient(email=p.email, phone=p.phone, user=p.customer)
        await self.notifier.enqueue(
            session,
            Trigger(ev.event_id, cat.REFUND_PROCESSED, data, [recipient], channels=(cat.EMAIL,)),
        )

    async def payment_failed(
        self,
        session: AsyncSession,
        p: order_events.OrderPaymentFailedEvent,
        ev: events_pb2.Event,
    ) -> None:
        number = p.order_number or _id(p.order)
        data = self._order_data(
            p.order,
            p.order_number,
            reason=p.reason or "The payment did not go through",
            retry_url=self.order_url(number),
            total_paise=p.amount.amount_minor,
            currency=p.amount.currency_code or "INR",
        )
        recipient = Recipient(email=p.email, phone=p.phone, user=p.customer)
        await self.notifier.enqueue(
            session,
            Trigger(ev.event_id, cat.PAYMENT_FAILED, data, [recipient], channels=(cat.EMAIL,)),
        )

    async def return_status(
        self,
        session: AsyncSession,
        p: order_events.OrderReturnStatusChangedEvent,
        ev: events_pb2.Event,
    ) -> None:
        text = _RETURN_STATE_TEXT.get(p.status)
        if text is None:
            return
        data = self._order_data(
            p.order,
            p.order_number,
            return_status=text,
            return_reference=_id(p.return_name) if p.return_name else "",
        )
        recipient = Recipient(email=p.email, phone=p.phone, user=p.customer)
        await self.notifier.enqueue(
            session,
            Trigger(ev.event_id, cat.RETURN_STATUS, data, [recipient], channels=(cat.EMAIL,)),
        )

    async def shipment_status_changed(
        self,
        session: AsyncSession,
        p: shipping_events.ShipmentStatusChangedEvent,
        ev: events_pb2.Event,
    ) -> None:
        if p.status == p.previous_status:
            return
        data = self._order_data(
            p.order,
            p.order_number,
            customer_name=p.recipient_name,
            carrier=p.carrier,
            awb=p.awb,
            tracking_url=p.tracking_url or self.order_url(p.order_number or _id(p.order)),
            reason=p.note,
        )
        recipient = Recipient(email=p.email, phone=p.phone)
        if p.direction == shipping_resources.ShipmentDirection.SHIPMENT_DIRECTION_RETURN:
            text = _RETURN_STATUS_TEXT.get(p.status)
            if text is None:
                return
            data.update(return_status=text, return_reference=_id(p.return_request))
            event_type = cat.RETURN_STATUS
        else:
            event_type = _FORWARD_EVENTS.get(p.status, "")
            if p.status == _S.SHIPMENT_STATUS_IN_TRANSIT and p.previous_status in (
                _S.SHIPMENT_STATUS_CREATED,
                _S.SHIPMENT_STATUS_UNSPECIFIED,
            ):
                event_type = cat.SHIPPED  # the carrier skipped "picked up"
            if not event_type:
                return
        await self.notifier.enqueue(session, Trigger(ev.event_id, event_type, data, [recipient]))


async def record_order(session: AsyncSession, dialect: str, key: str, at: Any) -> None:
    """Remember the latest order of a customer (user name or lower-case e-mail)."""
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = ins(PlacedOrder).values(customer_key=key[:254], last_order_at=at)
    stmt = stmt.on_conflict_do_update(
        index_elements=["customer_key"], set_={"last_order_at": stmt.excluded.last_order_at}
    )
    await session.execute(stmt)
