"""Razorpay webhooks into the order service: verified, deduplicated, and the same
result as ConfirmPayment whichever comes first."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import select

from cleanse.inventory.v1 import resources_pb2 as inv
from cleanse.order.v1 import checkout_service_pb2 as co_pb2
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from tests.order.conftest import Checkout, OrderEnv
from tests.support.rpc import reason


async def razorpay_order(env: OrderEnv) -> tuple[Checkout, pb.Order]:
    co = await env.start_checkout([(env.shop.variant(), 1)], method="razorpay_upi")
    return co, await env.place(co)


def confirm_req(order: pb.Order, pid: str, sig: str) -> co_pb2.ConfirmPaymentRequest:
    return co_pb2.ConfirmPaymentRequest(
        order=order.name,
        provider_order_id=order.payment.provider_order_id,
        provider_payment_id=pid,
        signature=sig,
    )


async def placed_events(env: OrderEnv, order: pb.Order) -> int:
    return len([e for e in await env.outbox_events() if e.order == order.name])


async def test_webhook_first_then_confirm(order_env: OrderEnv) -> None:
    env = order_env
    co, order = await razorpay_order(env)
    pid, sig = env.razorpay.pay(order.payment.provider_order_id, capture=True)
    await env.webhook("payment.captured", payment_id=pid)
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_CONFIRMED and got.paid
    assert got.payment.provider_payment_id == pid
    assert env.inventory.reservations[co.session.reservation].state == (
        inv.RESERVATION_STATE_COMMITTED
    )
    again = await env.checkout.ConfirmPayment(confirm_req(order, pid, sig), metadata=co.md)
    assert again.status == pb.ORDER_STATUS_CONFIRMED
    assert await placed_events(env, order) == 1


async def test_confirm_first_then_webhook_and_redelivery(order_env: OrderEnv) -> None:
    env = order_env
    co, order = await razorpay_order(env)
    pid, sig = env.razorpay.pay(order.payment.provider_order_id)
    await env.checkout.ConfirmPayment(confirm_req(order, pid, sig), metadata=co.md)
    event_id = await env.webhook("payment.captured", payment_id=pid)
    # Razorpay redelivers the same event id: nothing happens twice.
    raw, signature, _ = env.razorpay.webhook_body(
        "payment.captured", payment_id=pid, event_id=event_id
    )
    outcome = await env.wired.webhooks.receive(raw, signature, event_id)
    assert outcome == "duplicate"
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_CONFIRMED
    assert [h.to_status for h in got.status_history].count(pb.ORDER_STATUS_CONFIRMED) == 1
    assert await placed_events(env, order) == 1


async def test_authorized_webhook_captures(order_env: OrderEnv) -> None:
    env = order_env
    co, order = await razorpay_order(env)
    pid, _ = env.razorpay.pay(order.payment.provider_order_id)
    await env.webhook("payment.authorized", payment_id=pid)
    assert env.razorpay.payments[pid]["status"] == "captured"
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.paid


async def test_bad_signature_changes_nothing(order_env: OrderEnv) -> None:
    env = order_env
    co, order = await razorpay_order(env)
    pid, _ = env.razorpay.pay(order.payment.provider_order_id, capture=True)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.webhook("payment.captured", payment_id=pid, bad_signature=True)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason(err.value) == "WEBHOOK_SIGNATURE_INVALID"
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_PENDING_PAYMENT and not got.paid


async def test_failed_payment_is_recorded_and_order_waits(order_env: OrderEnv) -> None:
    env = order_env
    co, order = await razorpay_order(env)
    pid, _ = env.razorpay.pay(order.payment.provider_order_id, fail=True)
    await env.webhook("payment.failed", payment_id=pid)
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_PENDING_PAYMENT
    assert got.payment.error_code == "BAD_REQUEST_ERROR"
    # The customer tries again and succeeds.
    pid2, sig2 = env.razorpay.pay(order.payment.provider_order_id)
    paid = await env.checkout.ConfirmPayment(confirm_req(order, pid2, sig2), metadata=co.md)
    assert paid.paid and paid.payment.state == pb.PAYMENT_STATE_CAPTURED


async def test_confirm_and_webhook_racing_confirm_once(order_env: OrderEnv) -> None:
    import asyncio

    env = order_env
    co, order = await razorpay_order(env)
    pid, sig = env.razorpay.pay(order.payment.provider_order_id, capture=True)
    results = await asyncio.gather(
        env.checkout.ConfirmPayment(confirm_req(order, pid, sig), metadata=co.md),
        env.webhook("payment.captured", payment_id=pid),
        env.webhook("order.paid", payment_id=pid),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert [h.to_status for h in got.status_history] == [
        pb.ORDER_STATUS_PENDING_PAYMENT,
        pb.ORDER_STATUS_CONFIRMED,
    ]
    assert await placed_events(env, order) == 1


async def test_a_completion_from_a_stale_read_of_the_order_is_a_no_op(
    order_env: OrderEnv,
) -> None:
    """`complete_paid_order` marks the order paid with one conditional UPDATE when it
    is still as the caller read it (unpaid, awaiting payment); one read before another
    call confirmed it finds it paid under the row lock and changes nothing: one
    CONFIRMED, one "order.placed", one tax invoice."""
    from services.order import repository as repo
    from services.order.models import Invoice

    env = order_env
    co, order = await razorpay_order(env)
    oid = order.name.removeprefix("orders/")
    async with env.wired.db.session() as s:
        stale, _ = await repo.order_and_latest_payment(env.wired.db, s, oid)
    assert stale is not None and not stale.paid
    pid, sig = env.razorpay.pay(order.payment.provider_order_id, capture=True)
    paid = await env.checkout.ConfirmPayment(confirm_req(order, pid, sig), metadata=co.md)
    assert paid.status == pb.ORDER_STATUS_CONFIRMED
    again = await env.wired.checkout.complete_paid_order(oid, pid, order=stale)
    assert again.status == pb.ORDER_STATUS_CONFIRMED and again.paid
    assert [h.to_status for h in again.status_history] == [
        pb.ORDER_STATUS_PENDING_PAYMENT,
        pb.ORDER_STATUS_CONFIRMED,
    ]
    assert await placed_events(env, order) == 1
    async with env.wired.db.session() as s:
        invoices = (await s.scalars(select(Invoice.id).where(Invoice.order_id == oid))).all()
    assert len(invoices) == 1
