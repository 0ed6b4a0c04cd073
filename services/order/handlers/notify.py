"""Events for the customer's notifications (engagement) and for other services
(shipping: "order.updated"), written into the outbox in the transaction of the change
that causes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.order.v1 import events_pb2
from cleanse.order.v1 import resources_pb2 as pb
from mesh.outbox import Outbox
from services.order import convert
from services.order.models import Order, OrderEdit, OrderItem, Return

ORDER_PLACED = "order.placed"
ORDER_PAYMENT_FAILED = "order.payment_failed"
ORDER_RETURN_STATUS_CHANGED = "order.return_status_changed"
ORDER_UPDATED = "order.updated"


def _customer(order: Order) -> str:
    return f"users/{order.customer_id}" if order.customer_id else ""


async def payment_failed(
    outbox: Outbox, s: AsyncSession, order: Order, amount_minor: int, reason: str
) -> None:
    await outbox.add(
        s,
        ORDER_PAYMENT_FAILED,
        events_pb2.OrderPaymentFailedEvent(
            order=f"orders/{order.id}",
            order_number=order.order_number,
            customer=_customer(order),
            email=order.email,
            phone=order.phone,
            amount=convert.money(amount_minor, order.currency),
            reason=reason[:500],
        ),
    )


async def return_status_changed(outbox: Outbox, s: AsyncSession, order: Order, ret: Return) -> None:
    await outbox.add(
        s,
        ORDER_RETURN_STATUS_CHANGED,
        events_pb2.OrderReturnStatusChangedEvent(
            order=f"orders/{order.id}",
            return_name=f"orders/{order.id}/returns/{ret.id}",
            status=pb.ReturnState.Value(f"RETURN_STATE_{ret.state}"),
            customer=_customer(order),
            email=order.email,
            phone=order.phone,
            order_number=order.order_number,
        ),
    )


def _order_as_it_is(order: Order, items: Sequence[OrderItem]) -> dict[str, Any]:
    """Fields 1-16, the same in OrderPlacedEvent and OrderUpdatedEvent: the order as
    it is now (shipping builds and updates a shipment from either)."""
    address = order.address
    return {
        "order": f"orders/{order.id}",
        "order_number": order.order_number,
        "customer": _customer(order),
        "total": convert.money(order.total_minor, order.currency),
        "email": order.email,
        "state_code": address.get("state_code", ""),
        "city": address.get("city", ""),
        "pincode": address.get("pincode", ""),
        "payment_method": order.payment_method,
        "item_count": sum(i.quantity for i in items),
        "delivery_address": convert.address_out(address),
        "lines": [
            events_pb2.OrderPlacedLine(
                variant_id=i.variant_id,
                sku=i.sku,
                title=" ".join(x for x in (i.product_name, i.variant_title) if x),
                quantity=i.quantity,
            )
            for i in items
        ],
        "reservation": order.reservation_name,
        "cod_amount": convert.money(
            0 if order.paid or order.payment_provider != "COD" else order.total_minor,
            order.currency,
        ),
        "phone": order.phone,
        "customer_name": address.get("recipient_name", ""),
    }


async def order_placed(
    outbox: Outbox, s: AsyncSession, order: Order, items: Sequence[OrderItem]
) -> None:
    """The order is confirmed (paid online, or COD placed)."""
    await outbox.add(s, ORDER_PLACED, events_pb2.OrderPlacedEvent(**_order_as_it_is(order, items)))


def order_placed_rows(
    outbox: Outbox, order: Order, items: Sequence[OrderItem]
) -> list[dict[str, Any]]:
    """`order_placed`'s outbox rows, for the caller's own statement (it then calls
    `outbox.written` in that transaction)."""
    placed = events_pb2.OrderPlacedEvent(**_order_as_it_is(order, items))
    return outbox.rows(ORDER_PLACED, placed)[1]


async def order_updated(
    outbox: Outbox,
    s: AsyncSession,
    order: Order,
    items: Sequence[OrderItem],
    edit: OrderEdit,
    revision: int,
    now: datetime,
) -> None:
    """An admin edited a confirmed order: the order as it is now, in the shape of
    "order.placed" (fields 1-16), with the edit's revision (shipping applies only
    newer ones)."""
    await outbox.add(
        s,
        ORDER_UPDATED,
        events_pb2.OrderUpdatedEvent(
            **_order_as_it_is(order, items),
            revision=revision,
            edit=f"orders/{order.id}/edits/{edit.id}",
            lines_changed=edit.before_lines != edit.after_lines,
            address_changed=edit.address_changed,
            reason=edit.reason,
            update_time=convert.ts(now),
        ),
    )
