"""Events in, messages out: SMTP (aiosmtpd), SMS (fake gateway), retries, dead letters,
opt-outs, low-stock alerts, OTPs and abandoned-cart reminders."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.common.v1 import money_pb2
from cleanse.engagement.v1 import notification_admin_service_pb2 as admin_pb2
from cleanse.engagement.v1 import notification_internal_service_pb2 as internal_pb2
from cleanse.engagement.v1 import notification_preferences_service_pb2 as prefs_pb2
from cleanse.engagement.v1 import resources_pb2 as pb
from cleanse.inventory.v1 import events_pb2 as inventory_events
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.shipping.v1 import events_pb2 as shipping_events
from cleanse.shipping.v1 import resources_pb2 as shipping_pb
from mesh.db import new_id, utcnow
from services.engagement.carts import AbandonedCart
from services.engagement.contacts import Contact
from tests.engagement.conftest import ADMIN_EMAILS, Engagement, unique
from tests.support.rpc import reason


def placed(email: str, customer: str = "", number: str = "") -> order_events.OrderPlacedEvent:
    return order_events.OrderPlacedEvent(
        order=f"orders/{new_id()}",
        order_number=number or unique("CLN-"),
        customer=customer,
        total=money_pb2.Money(amount_minor=129900, currency_code="INR"),
        email=email,
        item_count=2,
        payment_method="razorpay",
    )


async def test_order_placed_email_arrives_once_even_when_redelivered(e: Engagement) -> None:
    email = f"{unique('c')}@example.in"
    ev = placed(email, number="CLN-2024-777")
    event_id = new_id()
    first = await e.deliver("order.placed", ev, event_id)
    again = await e.deliver("order.placed", ev, event_id)  # the relay delivers at least once
    assert (first.duplicate, again.duplicate) == (False, True)
    await e.drain()
    await e.drain()
    mails = e.smtp.to(email)
    assert len(mails) == 1
    msg = mails[0]
    assert msg["Subject"] == "Your order CLN-2024-777 is confirmed"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "₹1,299.00" in text and "https://shop.cleanse.test/orders/CLN-2024-777" in text
    assert "<b>CLN-2024-777</b>" in html
    [row] = await e.notifications(recipient=email)
    assert row.status == pb.NOTIFICATION_STATUS_SENT
    assert row.provider_message_id == msg["Message-ID"]
    assert (row.attempts, row.template, row.template_version) == (
        1,
        "notificationTemplates/order-placed-email",
        1,
    )


async def test_smtp_down_retries_then_dead_letter_then_admin_retry_sends(
    e: Engagement,
) -> None:
    email = f"{unique('down')}@example.in"
    address = e.smtp.address
    e.smtp.stop()
    try:
        await e.deliver("order.placed", placed(email))
        [row] = await e.notifications(recipient=email)
        dead = await e.settle(row.name)
    finally:
        e.smtp.start(address.host, address.port)
    assert dead.status == pb.NOTIFICATION_STATUS_DEAD_LETTER
    assert dead.attempts == 3 and dead.last_error
    listed = await e.notifications(status=pb.NOTIFICATION_STATUS_DEAD_LETTER)
    assert dead.name in {n.name for n in listed}
    assert e.smtp.to(email) == []
    retried = await e.admin.RetryNotification(
        admin_pb2.RetryNotificationRequest(name=dead.name), metadata=e.md()
    )
    assert retried.status == pb.NOTIFICATION_STATUS_PENDING and retried.attempts == 0
    sent = await e.settle(dead.name)
    assert sent.status == pb.NOTIFICATION_STATUS_SENT
    assert len(e.smtp.to(email)) == 1
    with pytest.raises(grpc.aio.AioRpcError) as err:  # a sent one is not retried
        await e.admin.RetryNotification(
            admin_pb2.RetryNotificationRequest(name=dead.name), metadata=e.md()
        )
    assert reason(err.value) == "NOT_RETRYABLE"


async def test_low_stock_event_emails_every_admin(e: Engagement) -> None:
    variant = unique("var_")
    await e.deliver(
        "inventory.low_stock",
        inventory_events.LowStockEvent(
            variant_id=variant, warehouse="warehouses/blr-1", available=2, on_hand=4,
            reorder_point=10,
        ),
        source="inventory",
    )  # fmt: skip
    await e.drain()
    for admin in ADMIN_EMAILS:
        mails = [m for m in e.smtp.to(admin) if variant in str(m["Subject"])]
        assert len(mails) == 1
        assert "2 left" in str(mails[0]["Subject"])


async def test_refund_email_goes_to_the_address_auth_knows(e: Engagement) -> None:
    user = f"users/{unique()}"
    email = f"{unique('r')}@example.in"
    e.contacts.users[user] = Contact(email=email, phone="+919812345678")
    await e.deliver(
        "order.refunded",
        order_events.OrderRefundedEvent(
            order=f"orders/{new_id()}",
            order_number="CLN-55",
            customer=user,
            amount=money_pb2.Money(amount_minor=49900, currency_code="INR"),
            refund=f"orders/x/refunds/{unique('rf')}",
        ),
    )
    await e.drain()
    [mail] = e.smtp.to(email)
    assert "₹499.00" in str(mail["Subject"]) and "CLN-55" in str(mail["Subject"])


async def test_shipment_events_send_shipped_email_and_sms_with_tracking(e: Engagement) -> None:
    email, phone = f"{unique('s')}@example.in", "+919876543210"
    before = len(e.sms.sent)
    await e.deliver(
        "shipment.status_changed",
        shipping_events.ShipmentStatusChangedEvent(
            shipment=f"shipments/{new_id()}", order=f"orders/{new_id()}", order_number="CLN-88",
            direction=shipping_pb.SHIPMENT_DIRECTION_FORWARD,
            previous_status=shipping_pb.SHIPMENT_STATUS_CREATED,
            status=shipping_pb.SHIPMENT_STATUS_PICKED_UP, carrier="Delhivery", awb="AWB123",
            tracking_url="https://track.test/AWB123", recipient_name="Asha", phone=phone,
            email=email,
        ),
        source="shipping",
    )  # fmt: skip
    await e.drain()
    [mail] = e.smtp.to(email)
    assert mail["Subject"] == "Your order CLN-88 has shipped"
    assert "https://track.test/AWB123" in mail.get_body(("html",)).get_content()
    sms = [s for s in e.sms.sent[before:] if s["mobiles"] == "919876543210"]
    assert len(sms) == 1 and sms[0]["template_id"] == "order_shipped"
    [row] = await e.notifications(recipient=phone)
    assert row.provider_message_id == sms[0]["message_id"]


async def test_send_otp_goes_by_sms_once_and_the_code_leaves_the_log(e: Engagement) -> None:
    phone = "+9198" + f"{int(new_id()[-8:], 16) % 10**8:08d}"
    request_id = unique("otp-")
    req = internal_pb2.SendOtpRequest(request_id=request_id, phone=phone, code="482913")
    first = await e.internal.SendOtp(req)
    again = await e.internal.SendOtp(req)  # a retried call: same notification
    assert first.name == again.name
    sent = await e.settle(first.name)
    assert sent.status == pb.NOTIFICATION_STATUS_SENT
    got = [s for s in e.sms.sent if s["mobiles"] == phone.lstrip("+")]
    assert len(got) == 1 and "482913" in got[0]["body"]
    assert sent.provider_message_id == got[0]["message_id"]
    with pytest.raises(grpc.aio.AioRpcError) as err:  # only mesh members may ask
        from cleanse.engagement.v1 import notification_internal_service_pb2_grpc as g

        await g.NotificationInternalServiceStub(e.channel).SendOtp(req)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_sms_gateway_failure_is_retried(e: Engagement) -> None:
    e.sms.fail_next(1, 503)
    phone = "+9197" + f"{int(new_id()[-8:], 16) % 10**8:08d}"
    n = await e.internal.SendOtp(
        internal_pb2.SendOtpRequest(request_id=unique("otp-"), phone=phone, code="1234")
    )
    sent = await e.settle(n.name)
    assert sent.status == pb.NOTIFICATION_STATUS_SENT and sent.attempts == 2


def cart(user: str, email: str, idle: timedelta) -> AbandonedCart:
    return AbandonedCart(
        cart=f"carts/{new_id()}",
        update_time=utcnow() - idle,
        user=user,
        email=email,
        customer_name="Asha",
        item_count=3,
        subtotal_paise=189700,
    )


async def test_abandoned_cart_reminders_are_capped(e: Engagement) -> None:
    email = f"{unique('cart')}@example.in"
    c = cart("", email, timedelta(hours=3))
    fresh = cart("", f"{unique('fresh')}@example.in", timedelta(minutes=5))
    e.carts.carts[c.cart] = c
    e.carts.carts[fresh.cart] = fresh
    try:
        for _ in range(4):
            await e.wired.carts.scan_once()
            await e.drain()
    finally:
        e.carts.carts.pop(c.cart)
        e.carts.carts.pop(fresh.cart)
    mails = e.smtp.to(email)
    assert len(mails) == 2  # cart_max_reminders
    assert mails[0]["Subject"] == "You left something in your cart"
    assert e.smtp.to(fresh.email) == []  # not idle long enough


async def test_no_reminder_after_an_order_is_placed(e: Engagement) -> None:
    user = f"users/{unique()}"
    email = f"{unique('buyer')}@example.in"
    c = cart(user, email, timedelta(hours=2))
    e.carts.carts[c.cart] = c
    try:
        await e.wired.carts.scan_once()
        await e.drain()
        assert len([m for m in e.smtp.to(email) if "cart" in str(m["Subject"])]) == 1
        await e.deliver("order.placed", placed(email, customer=user))
        await e.wired.carts.scan_once()
        await e.drain()
    finally:
        e.carts.carts.pop(c.cart)
    subjects = [str(m["Subject"]) for m in e.smtp.to(email)]
    assert sum("cart" in s for s in subjects) == 1
    assert sum("confirmed" in s for s in subjects) == 1


async def test_opt_out_suppresses_marketing_but_not_transactional(e: Engagement) -> None:
    user_id = unique()
    user = f"users/{user_id}"
    email = f"{unique('optout')}@example.in"
    md = e.customer_md(user)
    prefs = await e.prefs.GetNotificationPreferences(
        prefs_pb2.GetNotificationPreferencesRequest(), metadata=md
    )
    assert prefs.email_marketing and prefs.sms_marketing
    updated = await e.prefs.UpdateNotificationPreferences(
        prefs_pb2.UpdateNotificationPreferencesRequest(
            notification_preferences=pb.NotificationPreferences(email_marketing=False),
            update_mask=field_mask_pb2.FieldMask(paths=["email_marketing"]),
        ),
        metadata=md,
    )
    assert updated.name == f"{user}/notificationPreferences"
    assert not updated.email_marketing and updated.sms_marketing
    c = cart(user, email, timedelta(hours=2))
    e.carts.carts[c.cart] = c
    try:
        await e.wired.carts.scan_once()
        await e.drain()
    finally:
        e.carts.carts.pop(c.cart)
    [reminder] = await e.notifications(recipient=email, event_type="cart.abandoned")
    assert reminder.status == pb.NOTIFICATION_STATUS_SUPPRESSED
    await e.deliver("order.placed", placed(email, customer=user))
    await e.drain()
    subjects = [str(m["Subject"]) for m in e.smtp.to(email)]
    assert len(subjects) == 1 and "confirmed" in subjects[0]


async def test_notifications_log_filters_and_pages(e: Engagement) -> None:
    email = f"{unique('log')}@example.in"
    for _ in range(3):
        await e.deliver("order.placed", placed(email))
    await e.drain()
    first = await e.admin.ListNotifications(
        admin_pb2.ListNotificationsRequest(
            page_size=2, recipient=email, channel=pb.CHANNEL_EMAIL, event_type="order.placed",
            status=pb.NOTIFICATION_STATUS_SENT,
        ),
        metadata=e.md(),
    )  # fmt: skip
    assert len(first.notifications) == 2 and first.next_page_token
    rest = await e.admin.ListNotifications(
        admin_pb2.ListNotificationsRequest(
            page_size=2, page_token=first.next_page_token, recipient=email,
            channel=pb.CHANNEL_EMAIL, event_type="order.placed",
            status=pb.NOTIFICATION_STATUS_SENT,
        ),
        metadata=e.md(),
    )  # fmt: skip
    assert len(rest.notifications) == 1 and not rest.next_page_token
