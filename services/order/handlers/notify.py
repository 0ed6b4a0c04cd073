"""Events for the customer's notifications (engagement), written into the outbox in
the transaction of the change that causes them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.order.v1 import events_pb2
from cleanse.order.v1 import resources_pb2 as pb
from mesh.outbox import Outbox
from services.order import convert
from services.order.models import Order, Return

ORDER_PAYMENT_FAILED = "order.payment_failed"
ORDER_RETURN_STATUS_CHANGED = "order.return_status_changed"


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
