"""Orders after checkout: the state machine and its history, customer isolation,
cancellation, admin status updates in bulk, filters, CSV export, COD collection,
and the saga sweeper."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import select

from cleanse.inventory.v1 import resources_pb2 as inv
from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from cleanse.pricing.v1 import coupon_hold_service_pb2 as hold_pb2
from mesh import context as call_context
from mesh.identity import Identity
from services.order.models import CheckoutSaga, Order
from tests.order.conftest import OrderEnv
from tests.support.rpc import reason

S = pb.OrderStatus


async def cod_order(env: OrderEnv, md=None, qty: int = 1) -> tuple[pb.Order, str]:  # type: ignore[no-untyped-def]
    vid = env.shop.variant(stock=50)
    co = await env.start_checkout([(vid, qty)], md=md)
    return await env.place(co), vid


async def test_fulfilment_transitions_are_recorded_and_cod_paid_on_delivery(
    order_env: OrderEnv,
) -> None:
    env = order_env
    order, _ = await cod_order(env)
    admin = env.admin_md()
    for status in (S.ORDER_STATUS_PACKED, S.ORDER_STATUS_SHIPPED):
        order = await env.admin.UpdateOrderStatus(
            adm.UpdateOrderStatusRequest(name=order.name, status=status, reason="warehouse"),
            metadata=admin,
        )
        assert order.status == status and not order.paid
    with pytest.raises(grpc.aio.AioRpcError) as err:  # SHIPPED -> PACKED is illegal
        await env.admin.UpdateOrderStatus(
            adm.UpdateOrderStatusRequest(name=order.name, status=S.ORDER_STATUS_PACKED),
            metadata=admin,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "ILLEGAL_TRANSITION"
    order = await env.admin.UpdateOrderStatus(
        adm.UpdateOrderStatusRequest(name=order.name, status=S.ORDER_STATUS_DELIVERED),
        metadata=admin,
    )
    assert order.paid and order.payment.state == pb.PAYMENT_STATE_COLLECTED
    hist = [(h.from_status, h.to_status, h.actor) for h in order.status_history]
    assert [h[1] for h in hist] == [
        S.ORDER_STATUS_CONFIRMED,
        S.ORDER_STATUS_PACKED,
        S.ORDER_STATUS_SHIPPED,
        S.ORDER_STATUS_DELIVERED,
    ]
    assert hist[1][0] == S.ORDER_STATUS_CONFIRMED and hist[1][2] == "adminUsers/a1"
    assert order.status_history[1].reason == "warehouse"
    # A customer cannot cancel after shipment.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.UpdateOrderStatus(
            adm.UpdateOrderStatusRequest(name=order.name, status=S.ORDER_STATUS_CANCELLED),
            metadata=admin,
        )
    assert reason(err.value) == "ILLEGAL_TRANSITION"


async def test_customers_see_and_cancel_only_their_own_orders(order_env: OrderEnv) -> None:
    env = order_env
    alice, bob = env.customer(), env.customer()
    mine, vid = await cod_order(env, alice, qty=2)
    theirs, _ = await cod_order(env, bob)
    listed = await env.orders.ListOrders(o.ListOrdersRequest(), metadata=alice)
    assert [x.name for x in listed.orders] == [mine.name]
    for call in (
        env.orders.GetOrder(o.GetOrderRequest(name=theirs.name), metadata=alice),
        env.orders.CancelOrder(o.CancelOrderRequest(name=theirs.name), metadata=alice),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:  # no token at all
        await env.orders.ListOrders(o.ListOrdersRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # Cancel before shipment: an unpaid COD order is CANCELLED and its stock restocked.
    stock = env.shop.variants[vid].stock
    got = await env.orders.CancelOrder(
        o.CancelOrderRequest(name=mine.name, reason="changed my mind"), metadata=alice
    )
    assert got.status == S.ORDER_STATUS_CANCELLED and got.cancel_reason == "changed my mind"
    assert got.payment.state == pb.PAYMENT_STATE_CANCELLED
    assert env.shop.variants[vid].stock == stock + 2
    again = await env.orders.CancelOrder(o.CancelOrderRequest(name=mine.name), metadata=alice)
    assert again.status == S.ORDER_STATUS_CANCELLED and env.shop.variants[vid].stock == stock + 2


async def test_cancel_unpaid_razorpay_order_releases_holds(order_env: OrderEnv) -> None:
    env = order_env
    vid = env.shop.variant(stock=3)
    code = env.shop.coupon(uses=1)
    co = await env.start_checkout([(vid, 1)], method="razorpay_upi", coupons=(code,))
    order = await env.place(co)
    got = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert got.status == S.ORDER_STATUS_CANCELLED
    assert env.inventory.reservations[co.session.reservation].state == (
        inv.RESERVATION_STATE_RELEASED
    )
    assert env.shop.variants[vid].stock == 3 and env.shop.coupons[code] == 1


async def test_cancel_paid_order_is_refund_pending(order_env: OrderEnv) -> None:
    from cleanse.order.v1 import checkout_service_pb2 as co_pb2

    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 1)], method="razorpay_upi")
    order = await env.place(co)
    pid, sig = env.razorpay.pay(order.payment.provider_order_id)
    await env.checkout.ConfirmPayment(
        co_pb2.ConfirmPaymentRequest(
            order=order.name,
            provider_order_id=order.payment.provider_order_id,
            provider_payment_id=pid,
            signature=sig,
        ),
        metadata=co.md,
    )
    got = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert got.status == S.ORDER_STATUS_REFUND_PENDING and got.paid


async def test_admin_bulk_update_reports_each_order(order_env: OrderEnv) -> None:
    env = order_env
    a, _ = await cod_order(env)
    b, _ = await cod_order(env)
    c, _ = await cod_order(env)
    admin = env.admin_md()
    await env.admin.UpdateOrderStatus(
        adm.UpdateOrderStatusRequest(name=c.name, status=S.ORDER_STATUS_PACKED), metadata=admin
    )
    await env.admin.UpdateOrderStatus(
        adm.UpdateOrderStatusRequest(name=c.name, status=S.ORDER_STATUS_SHIPPED), metadata=admin
    )
    resp = await env.admin.BatchUpdateOrderStatus(
        adm.BatchUpdateOrderStatusRequest(
            names=[a.name, b.name, c.name, "orders/nope"], status=S.ORDER_STATUS_PACKED
        ),
        metadata=admin,
    )
    got = [(r.name, r.ok, r.status, r.error_reason) for r in resp.results]
    assert got == [
        (a.name, True, S.ORDER_STATUS_PACKED, ""),
        (b.name, True, S.ORDER_STATUS_PACKED, ""),
        (c.name, False, S.ORDER_STATUS_SHIPPED, "ILLEGAL_TRANSITION"),
        ("orders/nope", False, S.ORDER_STATUS_UNSPECIFIED, "NOT_FOUND"),
    ]
    # Without the permission: refused by the contract.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.BatchUpdateOrderStatus(
            adm.BatchUpdateOrderStatusRequest(names=[a.name], status=S.ORDER_STATUS_SHIPPED),
            metadata=env.admin_md(perms=("orders.read",)),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_admin_filters_search_and_csv_export(order_env: OrderEnv) -> None:
    env = order_env
    me = env.customer()
    first, _ = await cod_order(env, me)
    second, _ = await cod_order(env, me)
    admin = env.admin_md()
    uid = first.customer
    listed = await env.admin.ListOrders(o.ListOrdersRequest(customer=uid), metadata=admin)
    assert [x.name for x in listed.orders] == [second.name, first.name]  # newest first
    page = await env.admin.ListOrders(
        o.ListOrdersRequest(customer=uid, page_size=1), metadata=admin
    )
    assert len(page.orders) == 1 and page.next_page_token
    nxt = await env.admin.ListOrders(
        o.ListOrdersRequest(customer=uid, page_size=1, page_token=page.next_page_token),
        metadata=admin,
    )
    assert [x.name for x in nxt.orders] == [first.name]
    by_number = await env.admin.ListOrders(
        o.ListOrdersRequest(order_number=first.order_number), metadata=admin
    )
    assert [x.name for x in by_number.orders] == [first.name]
    by_status = await env.admin.ListOrders(
        o.ListOrdersRequest(customer=uid, statuses=[S.ORDER_STATUS_PACKED]), metadata=admin
    )
    assert not by_status.orders
    placed_after = first.create_time
    after = await env.admin.ListOrders(
        o.ListOrdersRequest(customer=uid, placed_after=placed_after), metadata=admin
    )
    assert {x.name for x in after.orders} == {first.name, second.name}
    chunks = [
        c
        async for c in env.admin.ExportOrders(
            adm.ExportOrdersRequest(filter=o.ListOrdersRequest(customer=uid)), metadata=admin
        )
    ]
    rows = list(csv.DictReader(io.StringIO(b"".join(c.chunk for c in chunks).decode())))
    assert [r["order_number"] for r in rows] == [second.order_number, first.order_number]
    assert (
        rows[0]["total"]
        == f"{second.total.amount_minor // 100}.{second.total.amount_minor % 100:02d}"
    )
    assert chunks[-1].rows == 2


async def test_admin_marks_cod_paid(order_env: OrderEnv) -> None:
    env = order_env
    order, _ = await cod_order(env)
    got = await env.admin.MarkCodPaid(
        adm.MarkCodPaidRequest(name=order.name), metadata=env.admin_md()
    )
    assert got.paid and got.status == S.ORDER_STATUS_CONFIRMED


# --- the sweeper: sagas a crash left behind ------------------------------------------------


class Crash(BaseException):
    """Stands in for the process dying mid-saga (not an Exception: nothing catches it)."""


async def _crashing_place(env: OrderEnv, monkeypatch: pytest.MonkeyPatch, where: str):  # type: ignore[no-untyped-def]
    vid = env.shop.variant(stock=5)
    code = env.shop.coupon(uses=1)
    uid = f"u{secrets.token_hex(4)}"
    co = await env.start_checkout([(vid, 1)], coupons=(code,), md=env.customer(uid))
    handlers = env.wired.checkout

    async def boom(*a, **kw):  # type: ignore[no-untyped-def]
        raise Crash()

    monkeypatch.setattr(handlers if where == "_create_order" else handlers.peers, where, boom)
    token = call_context.set_current(
        call_context.CallContext(identity=Identity(kind="customer", subject=f"users/{uid}"))
    )
    rid = secrets.token_hex(8)
    try:
        with pytest.raises(Crash):
            await handlers.place_order(co.session.name, rid, "")
    finally:
        call_context.reset(token)
        monkeypatch.undo()
    return co, code, rid


async def _sweep(env: OrderEnv) -> dict[str, int]:
    handlers = env.wired.checkout
    later = handlers.clock
    handlers.clock = lambda: later() + timedelta(minutes=10)
    try:
        return await handlers.sweep_once()
    finally:
        handlers.clock = later


async def test_sweeper_compensates_a_saga_that_crashed_before_payment(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = order_env
    co, code, rid = await _crashing_place(env, monkeypatch, "commit_reservation")
    async with env.wired.db.session() as s:
        saga = await s.scalar(select(CheckoutSaga).where(CheckoutSaga.request_id == rid))
    assert saga is not None and saga.state == "RUNNING"
    done = await _sweep(env)
    assert done["compensated"] >= 1
    async with env.wired.db.session() as s:
        saga = await s.scalar(select(CheckoutSaga).where(CheckoutSaga.request_id == rid))
        assert saga is not None and saga.state == "FAILED"
        assert await s.scalar(select(Order).where(Order.request_id == rid)) is None
    holds = [h for h in env.pricing.holds.values() if h.coupon_codes == [code]]
    assert [h.state for h in holds] == [hold_pb2.HOLD_STATE_RELEASED]
    assert env.inventory.reservations[co.session.reservation].state == (
        inv.RESERVATION_STATE_RELEASED
    )


async def test_sweeper_finishes_a_saga_that_crashed_after_committing(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = order_env
    co, code, rid = await _crashing_place(env, monkeypatch, "_create_order")
    assert env.inventory.reservations[co.session.reservation].state == (
        inv.RESERVATION_STATE_COMMITTED
    )
    done = await _sweep(env)
    assert done["resumed"] >= 1
    async with env.wired.db.session() as s:
        order = await s.scalar(select(Order).where(Order.request_id == rid))
    assert order is not None and order.status == "CONFIRMED"
    assert [e for e in await env.outbox_events() if e.order == f"orders/{order.id}"]
    holds = [h for h in env.pricing.holds.values() if h.coupon_codes == [code]]
    assert [h.state for h in holds] == [hold_pb2.HOLD_STATE_COMMITTED]


async def test_sweeper_gives_up_unpaid_orders_after_the_payment_window(
    order_env: OrderEnv,
) -> None:
    env = order_env
    vid = env.shop.variant(stock=2)
    code = env.shop.coupon(uses=1)
    co = await env.start_checkout([(vid, 1)], method="razorpay_upi", coupons=(code,))
    order = await env.place(co)
    handlers = env.wired.checkout
    now = handlers.clock
    handlers.clock = lambda: now() + timedelta(seconds=handlers.settings.payment_window_seconds + 5)
    try:
        done = await handlers.sweep_once()
    finally:
        handlers.clock = now
    assert done["expired"] >= 1
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == S.ORDER_STATUS_PAYMENT_FAILED
    assert got.payment.state == pb.PAYMENT_STATE_CANCELLED
    assert env.shop.variants[vid].stock == 2 and env.shop.coupons[code] == 1
