"""The order service's other events reach customers: payment failed, return status,
and a guest's refund (the event carries the guest's address)."""

from __future__ import annotations

from cleanse.common.v1 import money_pb2
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.order.v1 import resources_pb2 as order_pb
from mesh.db import new_id
from tests.engagement.conftest import Engagement, unique


async def test_payment_failed_email_says_why_and_how_to_retry(e: Engagement) -> None:
    email = f"{unique('pf')}@example.in"
    await e.deliver(
        "order.payment_failed",
        order_events.OrderPaymentFailedEvent(
            order=f"orders/{new_id()}",
            order_number="CL-2026-000777",
            email=email,
            amount=money_pb2.Money(amount_minor=129900, currency_code="INR"),
            reason="The bank declined the payment",
        ),
    )
    await e.drain()
    [mail] = e.smtp.to(email)
    assert "CL-2026-000777" in str(mail["Subject"])
    body = mail.get_body(("plain",)).get_content()
    assert "The bank declined the payment" in body


async def test_return_status_changes_are_emailed_once_each(e: Engagement) -> None:
    email = f"{unique('rt')}@example.in"
    order = f"orders/{new_id()}"
    for status in (order_pb.RETURN_STATE_APPROVED, order_pb.RETURN_STATE_COMPLETED):
        await e.deliver(
            "order.return_status_changed",
            order_events.OrderReturnStatusChangedEvent(
                order=order,
                order_number="CL-2026-000778",
                return_name=f"{order}/returns/r1",
                status=status,
                email=email,
            ),
        )
    await e.drain()
    mails = e.smtp.to(email)
    assert len(mails) == 2
    bodies = " ".join(m.get_body(("plain",)).get_content() for m in mails)
    assert "approved" in bodies and "inspected and refunded" in bodies


async def test_a_guests_refund_is_emailed_to_the_address_on_the_event(e: Engagement) -> None:
    email = f"{unique('gr')}@example.in"
    await e.deliver(
        "order.refunded",
        order_events.OrderRefundedEvent(
            order=f"orders/{new_id()}",
            order_number="CL-2026-000779",
            email=email,
            amount=money_pb2.Money(amount_minor=49900, currency_code="INR"),
        ),
    )
    await e.drain()
    [mail] = e.smtp.to(email)
    assert "CL-2026-000779" in str(mail["Subject"])
