"""Checkout sessions and the place-order saga over real gRPC, against fake peers."""

from __future__ import annotations

import asyncio
import re
import secrets

import grpc
import pytest
from sqlalchemy import func, select

from cleanse.inventory.v1 import resources_pb2 as inv
from cleanse.order.v1 import checkout_service_pb2 as co_pb2
from cleanse.order.v1 import resources_pb2 as pb
from cleanse.pricing.v1 import coupon_hold_service_pb2 as hold_pb2
from mesh import client
from services.order import repository as repo
from services.order.models import CheckoutSaga, Order
from tests.order.conftest import OrderEnv, address
from tests.order.fakes import COD_FEE, FLAT_SHIPPING
from tests.support.rpc import reason, violations


async def order_count(env: OrderEnv, **where: str) -> int:
    async with env.wired.db.session() as s:
        q = select(func.count()).select_from(Order)
        for k, v in where.items():
            q = q.where(getattr(Order, k) == v)
        return int(await s.scalar(q) or 0)


async def retry_unavailable(call, seconds: float = 5.0):  # type: ignore[no-untyped-def]
    """A client retrying while a restarted peer's channel reconnects."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE or loop.time() > until:
                raise
            client.reset_breakers()
            await asyncio.sleep(0.1)


async def test_cod_checkout_happy_path(order_env: OrderEnv) -> None:
    env = order_env
    oil, soap = env.shop.variant(price=49900), env.shop.variant(price=19900)
    code = env.shop.coupon(uses=5)
    co = await env.start_checkout([(oil, 1), (soap, 2)], coupons=(code,))
    s = co.session
    assert s.state == pb.CHECKOUT_SESSION_STATE_OPEN
    assert s.reservation.startswith("reservations/") and s.quote_expire_time.seconds > 0
    assert (
        "cod" in s.available_payment_methods and "razorpay_card" not in s.available_payment_methods
    )
    assert "shipping.flat_rate" in s.degradations
    assert s.shipping.rate.amount_minor == FLAT_SHIPPING
    assert env.inventory.reservations[s.reservation].state == inv.RESERVATION_STATE_HELD
    stock_before = env.shop.variants[oil].stock

    order = await env.place(co)
    assert order.status == pb.ORDER_STATUS_CONFIRMED
    assert re.fullmatch(r"CL-\d{4}-\d{6}", order.order_number)
    assert order.payment_provider == pb.PAYMENT_PROVIDER_COD and not order.paid
    assert order.payment.state == pb.PAYMENT_STATE_PENDING_ON_DELIVERY
    assert order.total.amount_minor == s.quote.total.amount_minor
    assert order.cod_fee.amount_minor == COD_FEE and order.coupon_codes == [code]
    # Stock committed (the session's reservation, not a second one), coupon use committed.
    assert env.inventory.reservations[s.reservation].state == inv.RESERVATION_STATE_COMMITTED
    assert env.shop.variants[oil].stock == stock_before
    holds = [h for h in env.pricing.holds.values() if h.coupon_codes == [code]]
    assert [h.state for h in holds] == [hold_pb2.HOLD_STATE_COMMITTED]
    assert env.shop.coupons[code] == 4
    # Lines snapshot name, variant title, SKU, HSN, prices and the GST split.
    items = {i.variant_id: i for i in order.items}
    assert items[soap].quantity == 2 and items[soap].unit_price.amount_minor == 19900
    assert items[oil].product_name.startswith("Kumkumadi") and items[oil].variant_title == "30 ml"
    assert items[oil].sku.startswith("SKU-") and items[oil].hsn_code == "33049990"
    i = items[oil]
    assert i.cgst.amount_minor + i.sgst.amount_minor + i.taxable_value.amount_minor == (
        i.total.amount_minor
    )
    assert i.igst.amount_minor == 0 and i.discount.amount_minor == 4990  # 10% coupon
    assert [h.to_status for h in order.status_history] == [pb.ORDER_STATUS_CONFIRMED]
    assert order.status_history[0].actor.startswith("users/")
    # "order.placed" is in the outbox, written with the order.
    events = [e for e in await env.outbox_events() if e.order == order.name]
    assert len(events) == 1 and events[0].total.amount_minor == order.total.amount_minor
    assert events[0].state_code == "KA" and events[0].item_count == 3
    # The session is used up.
    got = await env.checkout.GetCheckoutSession(
        co_pb2.GetCheckoutSessionRequest(name=s.name), metadata=co.md
    )
    assert got.state == pb.CHECKOUT_SESSION_STATE_COMPLETED and got.order == order.name
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.place(co)
    assert reason(err.value) == "CHECKOUT_SESSION_USED"


async def test_guest_checkout_validates_contact_and_address(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    cart, token = await env.cart_with([(oil, 1)])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.checkout.CreateCheckoutSession(
            co_pb2.CreateCheckoutSessionRequest(
                cart=cart,
                cart_token=token,
                delivery_address=address(pincode="110001", state="KA"),  # Delhi PIN
                email="not-an-email",
                payment_method="cod",
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    v = violations(err.value)
    assert "delivery_address.pincode" in v
    co = await env.start_checkout([(oil, 1)], guest=True)
    assert co.session.email == "guest@example.com" and co.session.phone == "+919876543210"
    order = await env.place(co)
    assert order.status == pb.ORDER_STATUS_CONFIRMED and not order.customer


async def test_cod_not_offered_above_its_limit(order_env: OrderEnv) -> None:
    env = order_env
    pricey = env.shop.variant(price=200000)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.start_checkout([(pricey, 3)])  # Rs 6,000 > COD limit Rs 5,000
    assert reason(err.value) == "PAYMENT_METHOD_UNAVAILABLE"
    co = await env.start_checkout([(pricey, 3)], method="razorpay_upi")
    assert "cod" not in co.session.available_payment_methods


async def test_place_order_is_idempotent(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 1)])
    rid = secrets.token_hex(8)
    first = await env.place(co, rid)
    again = await env.place(co, rid)
    assert again.name == first.name and again.order_number == first.order_number
    # The same request id for another checkout: refused, nothing placed.
    other = await env.start_checkout([(env.shop.variant(), 1)], md=co.md)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.place(other, rid)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "IDEMPOTENCY_MISMATCH"
    assert await order_count(env, request_id=rid) == 1


async def test_concurrent_duplicates_place_one_order(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 2)])
    rid = secrets.token_hex(8)
    results = await asyncio.gather(*(env.place(co, rid) for _ in range(10)))
    assert len({o.name for o in results}) == 1
    assert all(o.status == pb.ORDER_STATUS_CONFIRMED for o in results)
    assert await order_count(env, request_id=rid) == 1
    assert len([e for e in await env.outbox_events() if e.order == results[0].name]) == 1


async def test_order_numbers_unique_under_concurrent_placements(order_env: OrderEnv) -> None:
    env = order_env
    sessions = [await env.start_checkout([(env.shop.variant(), 1)]) for _ in range(20)]
    orders = await asyncio.gather(*(env.place(co) for co in sessions))
    numbers = [o.order_number for o in orders]
    assert len(set(numbers)) == 20
    values = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert values == list(range(values[0], values[0] + 20))  # no gaps, no duplicates


async def test_out_of_stock_at_placement_releases_the_coupon_hold(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(stock=1)
    code = env.shop.coupon(uses=1)
    co = await env.start_checkout([(oil, 1)], coupons=(code,))
    # The session's reservation lapses and someone else buys the last unit.
    env.inventory.expire(co.session.reservation)
    env.shop.variants[oil].stock = 0
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.place(co)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "OUT_OF_STOCK"
    holds = [h for h in env.pricing.holds.values() if h.coupon_codes == [code]]
    assert [h.state for h in holds] == [hold_pb2.HOLD_STATE_RELEASED]
    assert env.shop.coupons[code] == 1  # the use went back
    assert await order_count(env, session_id=co.session.name.split("/")[1]) == 0
    # Stock back: the SAME request id is retried and succeeds (a failed saga reruns).
    env.shop.variants[oil].stock = 1
    async with env.wired.db.session() as s:
        sid = co.session.name.split("/")[1]
        (saga_id,) = (
            await s.scalars(select(CheckoutSaga.id).where(CheckoutSaga.session_id == sid))
        ).all()
        steps = [st.step for st in await repo.saga_steps(s, saga_id)]
    assert "release_coupons" in steps and "compensate" in steps


async def test_payment_gateway_failure_compensates(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(stock=5)
    code = env.shop.coupon(uses=3)
    co = await env.start_checkout([(oil, 2)], method="razorpay_upi", coupons=(code,))
    env.razorpay.fail_next(1, 500)
    rid = secrets.token_hex(8)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.place(co, rid)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    res = env.inventory.reservations[co.session.reservation]
    assert res.state == inv.RESERVATION_STATE_RELEASED and env.shop.variants[oil].stock == 5
    holds = [h for h in env.pricing.holds.values() if h.coupon_codes == [code]]
    assert [h.state for h in holds] == [hold_pb2.HOLD_STATE_RELEASED]
    assert env.shop.coupons[code] == 3
    assert await order_count(env, request_id=rid) == 0
    # A retry with the same request id runs the saga again (new reservation, new hold).
    order = await env.place(co, rid)
    assert order.status == pb.ORDER_STATUS_PENDING_PAYMENT
    assert env.shop.variants[oil].stock == 3


async def test_razorpay_checkout_confirm_payment(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    co = await env.start_checkout([(oil, 1)], method="razorpay_upi")
    order = await env.place(co)
    assert order.status == pb.ORDER_STATUS_PENDING_PAYMENT and not order.paid
    p = order.payment
    assert p.state == pb.PAYMENT_STATE_CREATED and p.provider_order_id.startswith("order_")
    assert p.key_id == env.razorpay.key_id
    assert env.razorpay.orders[p.provider_order_id]["amount"] == order.total.amount_minor
    assert not [e for e in await env.outbox_events() if e.order == order.name]

    payment_id, signature = env.razorpay.pay(p.provider_order_id)
    confirm = co_pb2.ConfirmPaymentRequest(
        order=order.name,
        provider_order_id=p.provider_order_id,
        provider_payment_id=payment_id,
        signature="0" * 64,
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:  # tampered signature: nothing changes
        await env.checkout.ConfirmPayment(confirm, metadata=co.md)
    assert reason(err.value) == "PAYMENT_SIGNATURE_INVALID"
    assert env.inventory.reservations[co.session.reservation].state == inv.RESERVATION_STATE_HELD

    confirm.signature = signature
    calls_before = len(env.razorpay.requests)
    paid = await env.checkout.ConfirmPayment(confirm, metadata=co.md)
    assert paid.status == pb.ORDER_STATUS_CONFIRMED and paid.paid
    # A verified signature is enough to capture: one Razorpay call, no fetch first.
    assert [(r.method, r.path) for r in env.razorpay.requests[calls_before:]] == [
        ("POST", f"/v1/payments/{payment_id}/capture")
    ]
    assert paid.payment.state == pb.PAYMENT_STATE_CAPTURED
    assert paid.payment.provider_payment_id == payment_id
    assert env.razorpay.payments[payment_id]["status"] == "captured"
    assert (
        env.inventory.reservations[co.session.reservation].state == inv.RESERVATION_STATE_COMMITTED
    )
    assert [h.to_status for h in paid.status_history] == [
        pb.ORDER_STATUS_PENDING_PAYMENT,
        pb.ORDER_STATUS_CONFIRMED,
    ]
    again = await env.checkout.ConfirmPayment(confirm, metadata=co.md)  # a repeat
    assert again.status == pb.ORDER_STATUS_CONFIRMED
    assert len([e for e in await env.outbox_events() if e.order == order.name]) == 1
    # Somebody else's confirm: NOT_FOUND.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.checkout.ConfirmPayment(confirm, metadata=env.customer())
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_payment_after_reservation_lapsed_is_re_reserved(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(stock=2)
    co = await env.start_checkout([(oil, 1)], method="razorpay_upi")
    order = await env.place(co)
    env.inventory.expire(co.session.reservation)
    pid, sig = env.razorpay.pay(order.payment.provider_order_id)
    paid = await env.checkout.ConfirmPayment(
        co_pb2.ConfirmPaymentRequest(
            order=order.name,
            provider_order_id=order.payment.provider_order_id,
            provider_payment_id=pid,
            signature=sig,
        ),
        metadata=co.md,
    )
    assert paid.status == pb.ORDER_STATUS_CONFIRMED and env.shop.variants[oil].stock == 1


async def test_payment_after_reservation_lapsed_but_not_swept_is_re_reserved(
    order_env: OrderEnv,
) -> None:
    """Past its expiry, not yet swept: inventory refuses the commit with
    RESERVATION_EXPIRED (not NOT_HELD); the payment reserves again all the same, the
    lapsed hold's units given back first (here the last one: not refunded)."""
    env = order_env
    oil = env.shop.variant(stock=1)
    co = await env.start_checkout([(oil, 1)], method="razorpay_upi")
    order = await env.place(co)
    env.inventory.lapse(co.session.reservation)
    pid, sig = env.razorpay.pay(order.payment.provider_order_id)
    paid = await env.checkout.ConfirmPayment(confirm_request(order, pid, sig), metadata=co.md)
    assert paid.status == pb.ORDER_STATUS_CONFIRMED and paid.paid
    assert paid.payment.state == pb.PAYMENT_STATE_CAPTURED
    assert env.razorpay.payments[pid]["status"] == "captured"
    repay = env.inventory.by_request[f"repay-{order.name.removeprefix('orders/')}"]
    assert env.inventory.reservations[repay].state == inv.RESERVATION_STATE_COMMITTED
    lapsed = env.inventory.reservations[co.session.reservation]
    assert lapsed.state == inv.RESERVATION_STATE_RELEASED
    assert env.shop.variants[oil].stock == 0  # one unit, sold once


async def test_payment_after_reservation_lapsed_without_stock_is_refunded(
    order_env: OrderEnv,
) -> None:
    """Lapsed, not swept, and the stock gone by the time the payment reserves again
    (another shopper took the unit given back): refunded automatically."""
    env = order_env
    oil = env.shop.variant(stock=1)
    co = await env.start_checkout([(oil, 1)], method="razorpay_upi")
    order = await env.place(co)
    env.inventory.lapse(co.session.reservation)

    async def sold_meanwhile(request: object) -> None:
        if getattr(request, "request_id", "").startswith("repay-"):
            env.shop.variants[oil].stock = 0

    env.inventory.before_reserve = sold_meanwhile
    try:
        pid, sig = env.razorpay.pay(order.payment.provider_order_id)
        paid = await env.checkout.ConfirmPayment(confirm_request(order, pid, sig), metadata=co.md)
    finally:
        env.inventory.before_reserve = None
    assert paid.paid
    assert paid.status in (pb.ORDER_STATUS_REFUND_PENDING, pb.ORDER_STATUS_REFUNDED)
    assert env.razorpay.payments[pid]["status"] == "refunded"  # paid back in full


def confirm_request(order: pb.Order, pid: str, sig: str) -> co_pb2.ConfirmPaymentRequest:
    return co_pb2.ConfirmPaymentRequest(
        order=order.name,
        provider_order_id=order.payment.provider_order_id,
        provider_payment_id=pid,
        signature=sig,
    )


async def test_price_change_since_quote_fails_and_compensates(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(price=30000, stock=4)
    co = await env.start_checkout([(oil, 1)])
    env.shop.variants[oil].price = 35000
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.place(co)
    assert reason(err.value) == "PRICE_CHANGED"
    assert env.inventory.reservations[co.session.reservation].state == (
        inv.RESERVATION_STATE_RELEASED
    )
    assert env.shop.variants[oil].stock == 4


@pytest.mark.parametrize("dependency", ["pricing", "inventory"])
async def test_dependency_down_fails_fast_and_leaves_nothing(
    order_env: OrderEnv, dependency: str
) -> None:
    env = order_env
    oil = env.shop.variant(stock=5)
    code = env.shop.coupon(uses=2)
    co = await env.start_checkout([(oil, 1)], coupons=(code,))
    rid = secrets.token_hex(8)
    await env.peers[dependency].stop()
    try:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await env.place(co, rid)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert reason(err.value) == "DEPENDENCY_UNAVAILABLE"
    finally:
        await env.restart(dependency)
    assert await order_count(env, request_id=rid) == 0
    held = [h for h in env.pricing.holds.values() if h.coupon_codes == [code]]
    assert all(h.state == hold_pb2.HOLD_STATE_RELEASED for h in held)
    assert env.shop.coupons[code] == 2
    # Back up: the client's retry with the same request id places the order.
    order = await retry_unavailable(lambda: env.place(co, rid))
    assert order.status == pb.ORDER_STATUS_CONFIRMED


async def test_settings_down_uses_cached_config_else_fails_clearly(order_env: OrderEnv) -> None:
    env = order_env
    cache = env.wired.peers.config_cache
    await env.start_checkout([(env.shop.variant(), 1)])  # config cached
    for entry in cache._entries.values():  # it goes stale
        entry.expires_at = 0
    await env.peers["settings"].stop()
    try:
        co = await env.start_checkout([(env.shop.variant(), 1)])  # served stale
        assert co.session.state == pb.CHECKOUT_SESSION_STATE_OPEN
        cache.clear()
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await env.start_checkout([(env.shop.variant(), 1)])
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert reason(err.value) == "DEPENDENCY_UNAVAILABLE"
    finally:
        await env.restart("settings")
