"""Outbox events -> notifications, inside the EventSink's transaction.

`mesh.events.EventSink` records the event id and runs the handler in ONE
transaction: a redelivered event finds its id and does nothing, so each event makes
its notification rows exactly once. Sending happens later, in the dispatcher.
`EngagementEventSink` (below) keeps that outcome with less work: events that make
nothing skip the database, and "order.placed" is one statement on PostgreSQL.

Handlers only read the payload (no network calls inside the transaction): a
recipient the event names only as "users/{id}" is looked up at send time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import String, Table, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.common.v1 import events_pb2
from cleanse.inventory.v1 import events_pb2 as inventory_events
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.order.v1 import resources_pb2 as order_resources
from cleanse.shipping.v1 import events_pb2 as shipping_events
from cleanse.shipping.v1 import resources_pb2 as shipping_resources
from mesh.db import Database, UTCDateTime
from mesh.events import EventSink
from services.engagement import catalogue as cat
from services.engagement.models import PROCESSED_EVENTS, CartReminder, PlacedOrder
from services.engagement.notifier import Alongside, Notifier, Recipient, Trigger

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
            # Every checkout's "shipment created" tells the customer nothing.
            applies=lambda p: shipment_notice(p) is not None,
        )
        if isinstance(sink, EngagementEventSink):
            sink.register_plan(
                ORDER_PLACED_TOPIC, order_events.OrderPlacedEvent, self.order_placed_plan
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

    def order_placed_plan(
        self, p: order_events.OrderPlacedEvent, ev: events_pb2.Event
    ) -> tuple[Trigger, Alongside | None]:
        data = self._order_data(
            p.order,
            p.order_number,
            total_paise=p.total.amount_minor,
            currency=p.total.currency_code or "INR",
            item_count=p.item_count,
            payment_method=p.payment_method,
        )
        trigger = Trigger(
            ev.event_id,
            cat.ORDER_PLACED,
            data,
            [Recipient(email=p.email, user=p.customer)],
            channels=(cat.EMAIL,),
        )
        # No abandoned-cart reminder for this customer's earlier carts any more:
        # written with the confirmation's row (on PostgreSQL in the same statement).
        placed_at = ev.occurred_at.ToDatetime(tzinfo=UTC)
        return trigger, order_placed_writes(p.customer, p.email.lower(), placed_at)

    async def order_placed(
        self, session: AsyncSession, p: order_events.OrderPlacedEvent, ev: events_pb2.Event
    ) -> None:
        trigger, alongside = self.order_placed_plan(p, ev)
        await self.notifier.enqueue(session, trigger, alongside=alongside)

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
        notice = shipment_notice(p)
        if notice is None:
            return
        event_type, return_text = notice
        data = self._order_data(
            p.order,
            p.order_number,
            customer_name=p.recipient_name,
            carrier=p.carrier,
            awb=p.awb,
            tracking_url=p.tracking_url or self.order_url(p.order_number or _id(p.order)),
            reason=p.note,
        )
        if return_text is not None:
            data.update(return_status=return_text, return_reference=_id(p.return_request))
        recipient = Recipient(email=p.email, phone=p.phone)
        await self.notifier.enqueue(session, Trigger(ev.event_id, event_type, data, [recipient]))


def shipment_notice(p: shipping_events.ShipmentStatusChangedEvent) -> tuple[str, str | None] | None:
    """What a shipment's status change tells the customer: (event type, the return's
    status text for a return pickup), or None for a change that tells nothing (a
    forward shipment created, an unchanged status)."""
    if p.status == p.previous_status:
        return None
    if p.direction == shipping_resources.ShipmentDirection.SHIPMENT_DIRECTION_RETURN:
        text = _RETURN_STATUS_TEXT.get(p.status)
        return None if text is None else (cat.RETURN_STATUS, text)
    event_type = _FORWARD_EVENTS.get(p.status, "")
    if p.status == _S.SHIPMENT_STATUS_IN_TRANSIT and p.previous_status in (
        _S.SHIPMENT_STATUS_CREATED,
        _S.SHIPMENT_STATUS_UNSPECIFIED,
    ):
        event_type = cat.SHIPPED  # the carrier skipped "picked up"
    return (event_type, None) if event_type else None


Plan = Callable[[Any, events_pb2.Event], tuple[Trigger, Alongside | None]]


class EngagementEventSink(EventSink):
    """`mesh.events.EventSink` with one short cut, same outcome: an event with a
    registered `plan` (its trigger and alongside writes, computed from the payload
    alone) is written on PostgreSQL as ONE statement: the processed-event row, the
    notification row and the alongside writes, each only if the event is new
    (`Notifier.enqueue_event`): one round trip in autocommit instead of BEGIN, three
    statements and COMMIT. Where that does not fit (SQLite, several rows) it goes the
    usual way, through the handler.
    """

    def __init__(self, db: Database, processed: Table, notifier: Notifier) -> None:
        super().__init__(db, processed)
        self.notifier = notifier
        self._plans: dict[str, tuple[type[Message], Plan]] = {}

    def register_plan(self, topic: str, payload_type: type[Message], plan: Plan) -> None:
        if self.processed is not PROCESSED_EVENTS:
            raise ValueError("plans write the engagement service's processed_events table")
        self._plans[topic] = (payload_type, plan)

    async def handle(self, event: events_pb2.Event) -> bool:
        if event.event_id:
            planned = self._plans.get(event.topic)
            if planned is not None and not self.db.is_sqlite:
                payload = planned[0]()
                if event.payload.Unpack(payload):
                    trigger, alongside = planned[1](payload, event)
                    duplicate = await self.notifier.enqueue_event(event, trigger, alongside)
                    if duplicate is not None:
                        return duplicate
        return await super().handle(event)


_PLACED = PlacedOrder.__table__
_REMINDERS = CartReminder.__table__


def close_open_reminders(user: bool, email: bool, gates: list[Any]) -> Any:
    """UPDATE closing the customer's open reminders found by user name (`b_user`)
    and/or e-mail (`b_email`) at `at`: index lookups (the partial indexes on open
    reminders), never a scan of every reminder ever written."""
    r = _REMINDERS.c
    conditions = [
        r[column] == bindparam(f"b_{column}")
        for column, present in (("user", user), ("email", email))
        if present
    ]
    return (
        update(_REMINDERS)
        .where(or_(*conditions), r.closed_at.is_(None), *gates)
        .values(closed_at=bindparam("at"))
    )


def _placed_statements(
    shape: tuple[int, bool, bool], dialect: str, gate: Any
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(PostgreSQL CTEs, statements elsewhere) of `order_placed_writes` for a shape
    (number of keys, user and e-mail present); with `gate`, each writes only when
    it holds."""
    keys, user, email = shape
    close = close_open_reminders(user, email, [gate] if gate is not None else [])
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upserts = []
    for i in range(keys):
        if gate is None:
            upsert = ins(_PLACED).values(
                customer_key=bindparam(f"key_{i}"), last_order_at=bindparam("at")
            )
        else:
            upsert = ins(_PLACED).from_select(
                ["customer_key", "last_order_at"],
                select(
                    bindparam(f"key_{i}", type_=String()), bindparam("at", type_=UTCDateTime())
                ).where(gate),
            )
        upserts.append(
            upsert.on_conflict_do_update(
                index_elements=["customer_key"],
                set_={"last_order_at": upsert.excluded.last_order_at},
            )
        )
    if dialect == "postgresql":
        ctes = (
            close.cte("closed_reminders"),
            *(u.cte(f"last_order_{i}") for i, u in enumerate(upserts)),
        )
        return ctes, ()
    return (), (*upserts, close)


def order_placed_writes(user: str, email: str, at: Any) -> Alongside | None:
    """A customer (user name and/or lower-case e-mail) ordered at `at`: remember it
    as their latest order (`customer_last_orders`) and close their open
    abandoned-cart reminders."""
    keys = list(dict.fromkeys(k[:254] for k in (user, email) if k))
    if not keys:
        return None
    shape = (len(keys), bool(user), bool(email))
    params: dict[str, Any] = {"at": at, "b_user": user, "b_email": email}
    params.update({f"key_{i}": k for i, k in enumerate(keys)})
    return Alongside(
        ("order_placed", shape),
        lambda dialect, gate: _placed_statements(shape, dialect, gate),
        params,
    )
