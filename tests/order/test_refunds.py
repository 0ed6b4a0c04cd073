"""Refunds: by amount and by line, capped at what was paid under concurrency,
idempotent, through the Razorpay adapter (fake Razorpay) or recorded for COD."""

from __future__ import annotations

import asyncio
import secrets

import grpc
import pytest

from cleanse.common.v1 import money_pb2
from cleanse.order.v1 import checkout_service_pb2 as co_pb2
from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from tests.order.conftest import Checkout, OrderEnv
from tests.support.rpc import reason

ADMIN = ("orders.read", "orders.write", "refunds.write")


async def paid_online(env: OrderEnv, lines: list[tuple[str, int]]) -> tuple[Checkout, pb.Order]:
    co = await env.start_checkout(lines, method="razorpay_upi")
    order = await env.place(co)
    pid, sig = env.razorpay.pay(order.payment.provider_order_id)
    order = await env.checkout.ConfirmPayment(
        co_pb2.ConfirmPaymentRequest(
            order=order.name,
            provider_order_id=order.payment.provider_order_id,
            provider_payment_id=pid,
            signature=sig,
        ),
        metadata=co.md,
    )
    return co, order


def refund_req(order: pb.Order, **kw) -> adm.CreateRefundRequest:  # type: ignore[no-untyped-def]
    kw.setdefault("request_id", secrets.token_hex(8))
    if "amount" in kw:
        kw["amount"] = money_pb2.Money(amount_minor=kw["amount"], currency_code="INR")
    return adm.CreateRefundRequest(order=order.name, **kw)


async def test_partial_refunds_by_amount_and_line_never_exceed_paid(order_env: OrderEnv) -> None:
    env = order_env
    oil, soap = env.shop.variant(price=40000), env.shop.variant(price=20000)
    _, order = await paid_online(env, [(oil, 2), (soap, 1)])
    md = env.admin_md(ADMIN)
    total = order.total.amount_minor
    by_amount = await env.admin.CreateRefund(refund_req(order, amount=10000), metadata=md)
    assert by_amount.state == pb.REFUND_STATE_PENDING and by_amount.provider_refund_id
    assert by_amount.method == pb.REFUND_METHOD_ORIGINAL_PAYMENT
    rid = secrets.token_hex(8)
    by_line = await env.admin.CreateRefund(
        refund_req(order, request_id=rid, lines=[pb.RefundLine(variant_id=oil, quantity=1)]),
        metadata=md,
    )
    assert by_line.amount.amount_minor == 40000  # one of two oil units
    again = await env.admin.CreateRefund(
        refund_req(order, request_id=rid, lines=[pb.RefundLine(variant_id=oil, quantity=1)]),
        metadata=md,
    )
    assert again.name == by_line.name  # idempotent
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.CreateRefund(refund_req(order, request_id=rid, amount=5), metadata=md)
    assert reason(err.value) == "IDEMPOTENCY_MISMATCH"
    with pytest.raises(grpc.aio.AioRpcError) as err:  # more than is left
        await env.admin.CreateRefund(refund_req(order, amount=total - 50000 + 1), metadata=md)
    assert reason(err.value) == "REFUND_EXCEEDS_PAID"
    rest = await env.admin.CreateRefund(refund_req(order), metadata=md)  # everything left
    assert rest.amount.amount_minor == total - 50000
    listed = await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    assert sum(r.amount.amount_minor for r in listed.refunds) == total
    payment_id = order.payment.provider_payment_id
    assert env.razorpay.payments[payment_id]["amount_refunded"] == total


async def test_two_refunds_racing_past_the_paid_amount(order_env: OrderEnv) -> None:
    env = order_env
    _, order = await paid_online(env, [(env.shop.variant(price=50000), 1)])
    md = env.admin_md(ADMIN)
    share = order.total.amount_minor * 6 // 10
    results = await asyncio.gather(
        *(env.admin.CreateRefund(refund_req(order, amount=share), metadata=md) for _ in range(2)),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, pb.Refund)]
    failed = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(ok) == 1 and len(failed) == 1
    assert reason(failed[0]) == "REFUND_EXCEEDS_PAID"


async def test_cancel_paid_order_refunds_in_full_and_webhook_settles(order_env: OrderEnv) -> None:
    env = order_env
    co, order = await paid_online(env, [(env.shop.variant(), 1)])
    got = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_REFUND_PENDING
    md = env.admin_md(ADMIN)
    [refund] = (
        await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    ).refunds
    assert refund.amount.amount_minor == order.total.amount_minor and refund.actor == "system"
    env.razorpay.settle_refund(refund.provider_refund_id)
    await env.webhook("refund.processed", refund_id=refund.provider_refund_id)
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_REFUNDED
    [refund] = (
        await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    ).refunds
    assert refund.state == pb.REFUND_STATE_PROCESSED


async def test_cod_refund_is_recorded_as_store_credit(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 1)])
    order = await env.place(co)
    md = env.admin_md(ADMIN)
    with pytest.raises(grpc.aio.AioRpcError) as err:  # nothing collected yet
        await env.admin.CreateRefund(refund_req(order, amount=100), metadata=md)
    assert reason(err.value) == "ORDER_NOT_PAID"
    await env.admin.MarkCodPaid(adm.MarkCodPaidRequest(name=order.name), metadata=md)
    refund = await env.admin.CreateRefund(
        refund_req(order, amount=1000, method=pb.REFUND_METHOD_BANK_TRANSFER), metadata=md
    )
    assert refund.state == pb.REFUND_STATE_PROCESSED
    assert refund.method == pb.REFUND_METHOD_BANK_TRANSFER


async def test_gateway_down_leaves_refund_pending_for_the_sweeper(order_env: OrderEnv) -> None:
    env = order_env
    _, order = await paid_online(env, [(env.shop.variant(), 1)])
    md = env.admin_md(ADMIN)
    env.razorpay.fail_next(5, 503)
    refund = await env.admin.CreateRefund(refund_req(order, amount=500), metadata=md)
    assert refund.state == pb.REFUND_STATE_PENDING and not refund.provider_refund_id
    assert "unavailable" in refund.error
    assert await env.wired.refunds.retry_pending() >= 1
    [got] = (
        await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    ).refunds
    assert got.provider_refund_id and not got.error
