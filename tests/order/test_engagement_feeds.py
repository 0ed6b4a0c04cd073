"""What engagement reads from the order service: abandoned carts (internal RPC) and
the notification events in the outbox; and the payment gaps closed against the fake
Razorpay: a late capture refunded automatically, a paid-but-unconfirmed order
settled by the sweeper from the gateway's list of the order's payments."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import update

from cleanse.order.v1 import cart_internal_service_pb2 as ci
from cleanse.order.v1 import cart_internal_service_pb2_grpc as ci_grpc
from cleanse.order.v1 import events_pb2 as ev
from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from mesh import client
from mesh.db import utcnow
from services.order.models import Cart, Order
from tests.order.conftest import OrderEnv
from tests.order.test_refunds import paid_online
from tests.order.test_returns import ADMIN, ask, delivered_cod


async def age_cart(env: OrderEnv, cart_id: str, hours: int = 2) -> None:
    async with env.wired.db.transaction() as s:
        await s.execute(
            update(Cart)
            .where(Cart.id == cart_id)
            .values(last_activity_time=utcnow() - timedelta(hours=hours))
        )


async def cart_id(env: OrderEnv, name: str, md) -> str:  # type: ignore[no-untyped-def]
    from cleanse.order.v1 import cart_service_pb2

    got = await env.carts.GetCart(cart_service_pb2.GetCartRequest(name=name), metadata=md)
    return got.name.split("/")[1]


async def all_abandoned(env: OrderEnv, idle_since: Timestamp) -> dict[str, ci.AbandonedCart]:
    # As engagement calls it: through the mesh client (internal token).
    stub = client.stub("order", ci_grpc.CartInternalServiceStub)
    out: dict[str, ci.AbandonedCart] = {}
    token = ""
    while True:
        resp = await stub.ListAbandonedCarts(
            ci.ListAbandonedCartsRequest(idle_since=idle_since, page_size=2, page_token=token)
        )
        times = [c.update_time.ToDatetime() for c in resp.carts]
        assert times == sorted(times)  # oldest first within a page
        out.update({c.cart: c for c in resp.carts})
        token = resp.next_page_token
        if not token:
            return out


async def test_list_abandoned_carts(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(price=25000)
    # A guest who gave contact details at checkout, then left.
    guest = await env.start_checkout([(oil, 2)], guest=True)
    # A customer who added to the cart and left (contact from auth).
    cust_md = env.customer("abandoner1")
    cust_cart, _ = await env.cart_with([(oil, 1)], cust_md)
    # A guest cart without any contact: skipped.
    anon, _ = await env.cart_with([(oil, 1)])
    # An empty cart, a fresh cart, a cart that became an order.
    empty, _ = await env.cart_with([])
    fresh = await env.start_checkout([(oil, 1)], guest=True)
    converted = await env.start_checkout([(oil, 1)], guest=True)
    await env.place(converted)
    ids = {
        "guest": guest.cart.split("/")[1],
        "cust": await cart_id(env, cust_cart, cust_md),
        "anon": anon.split("/")[1],
        "empty": empty.split("/")[1],
        "fresh": fresh.cart.split("/")[1],
        "converted": converted.cart.split("/")[1],
    }
    for k, cid in ids.items():
        if k != "fresh":
            await age_cart(env, cid)
    since = Timestamp()
    since.FromDatetime(utcnow() - timedelta(hours=1))
    got = await all_abandoned(env, since)
    g = got[f"carts/{ids['guest']}"]
    assert g.email == "guest@example.com" and g.phone == "+919876543210" and not g.user
    assert g.customer_name == "Asha Rao" and g.item_count == 2
    assert g.subtotal.amount_minor == 50000
    c = got[f"carts/{ids['cust']}"]
    assert c.user == "users/abandoner1" and c.email == "abandoner1@example.com"
    for k in ("anon", "empty", "fresh", "converted"):
        assert f"carts/{ids[k]}" not in got, k


async def test_notification_events_are_written(order_env: OrderEnv) -> None:
    env = order_env
    # order.placed carries phone and customer name.
    order = await env.place(await env.start_checkout([(env.shop.variant(), 1)]))
    [placed] = [e for e in await env.outbox_events() if e.order == order.name]
    assert placed.phone and placed.customer_name == "Asha Rao"
    # order.payment_failed: a failed Razorpay attempt (webhook).
    co = await env.start_checkout([(env.shop.variant(), 1)], method="razorpay_upi")
    pending = await env.place(co)
    pid, _ = env.razorpay.pay(pending.payment.provider_order_id, fail=True)
    await env.webhook("payment.failed", payment_id=pid)
    failed = [
        e
        for e in await env.outbox_events("order.payment_failed", ev.OrderPaymentFailedEvent)
        if e.order == pending.name
    ]
    assert len(failed) == 1 and "UPI PIN" in failed[0].reason
    assert failed[0].amount.amount_minor == pending.total.amount_minor and failed[0].phone
    # order.return_status_changed: requested, then rejected.
    oil = env.shop.variant()
    rco, delivered = await delivered_cod(env, [(oil, 1)])
    ret = await env.orders.RequestReturn(ask(delivered, [(oil, 1)]), metadata=rco.md)
    await env.admin.RejectReturn(
        adm.RejectReturnRequest(name=ret.name, reason="used"), metadata=env.admin_md(ADMIN)
    )
    changes = [
        e
        for e in await env.outbox_events(
            "order.return_status_changed", ev.OrderReturnStatusChangedEvent
        )
        if e.return_name == ret.name
    ]
    # (outbox rows are not read back in write order on PostgreSQL)
    assert sorted(e.status for e in changes) == [
        pb.RETURN_STATE_REQUESTED,
        pb.RETURN_STATE_REJECTED,
    ]
    assert changes[0].email and changes[0].customer == delivered.customer
    # order.refunded carries email and phone (a paid order cancelled, refund processed).
    pco, paid = await paid_online(env, [(env.shop.variant(), 1)])
    await env.orders.CancelOrder(o.CancelOrderRequest(name=paid.name), metadata=pco.md)
    [refund] = (
        await env.admin.ListRefunds(
            adm.ListRefundsRequest(order=paid.name), metadata=env.admin_md(ADMIN)
        )
    ).refunds
    env.razorpay.settle_refund(refund.provider_refund_id)
    await env.webhook("refund.processed", refund_id=refund.provider_refund_id)
    refunded = [
        e
        for e in await env.outbox_events("order.refunded", ev.OrderRefundedEvent)
        if e.order == paid.name
    ]
    assert len(refunded) == 1 and refunded[0].email == paid.email
    assert refunded[0].phone == paid.phone and paid.phone


async def test_late_capture_is_refunded_automatically(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 1)], method="razorpay_upi")
    order = await env.place(co)
    await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    pid, _ = env.razorpay.pay(order.payment.provider_order_id, capture=True)
    await env.webhook("payment.captured", payment_id=pid)
    md = env.admin_md(ADMIN)
    [refund] = (
        await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    ).refunds
    assert refund.amount.amount_minor == order.total.amount_minor and refund.actor == "system"
    assert refund.provider_refund_id and refund.request_id == f"late-{pid}"
    assert env.razorpay.payments[pid]["amount_refunded"] == order.total.amount_minor
    got = await env.admin.GetOrder(o.GetOrderRequest(name=order.name), metadata=md)
    assert got.status == pb.ORDER_STATUS_CANCELLED
    assert got.payment.error_code == "CAPTURED_AFTER_ORDER_CLOSED"
    # The webhook redelivered under a new event id: still one refund (idempotent key).
    await env.webhook("payment.captured", payment_id=pid)
    again = await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    assert len(again.refunds) == 1
    assert len(env.razorpay.calls("POST", f"/payments/{pid}/refund")) == 1


async def test_sweeper_settles_a_paid_order_from_its_payments(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 1)], method="razorpay_upi")
    order = await env.place(co)
    # Paid at Razorpay, but neither the storefront's confirm nor a webhook arrived.
    pid, _ = env.razorpay.pay(order.payment.provider_order_id, capture=True)
    window = env.wired.settings.payment_window_seconds
    async with env.wired.db.transaction() as s:
        await s.execute(
            update(Order)
            .where(Order.id == order.name.split("/")[1])
            .values(create_time=utcnow() - timedelta(seconds=window + 60))
        )
    done = await env.wired.checkout.sweep_once()
    assert done["settled"] >= 1
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_CONFIRMED and got.paid
    assert got.payment.provider_payment_id == pid
    path = f"/orders/{order.payment.provider_order_id}/payments"
    assert env.razorpay.calls("GET", path)
    assert len([e for e in await env.outbox_events() if e.order == order.name]) == 1
