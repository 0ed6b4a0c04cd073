"""Returns: requested within the window, approved (manual pickup while there is no
shipping service) or rejected, inspected per line; passed units restocked and
refunded."""

from __future__ import annotations

import secrets
from datetime import timedelta

import grpc
import pytest

from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from tests.order.conftest import Checkout, OrderEnv
from tests.support.rpc import reason, violations

ADMIN = ("orders.read", "orders.write", "refunds.write", "returns.write")
S = pb.OrderStatus


async def delivered_cod(env: OrderEnv, lines: list[tuple[str, int]]) -> tuple[Checkout, pb.Order]:
    co = await env.start_checkout(lines)
    order = await env.place(co)
    md = env.admin_md(ADMIN)
    for st in (S.ORDER_STATUS_PACKED, S.ORDER_STATUS_SHIPPED, S.ORDER_STATUS_DELIVERED):
        order = await env.admin.UpdateOrderStatus(
            adm.UpdateOrderStatusRequest(name=order.name, status=st), metadata=md
        )
    return co, order


def ask(order: pb.Order, lines: list[tuple[str, int]], rid: str = "") -> o.RequestReturnRequest:
    return o.RequestReturnRequest(
        order=order.name,
        request_id=rid or secrets.token_hex(8),
        lines=[pb.ReturnLine(variant_id=v, quantity=q, reason="damaged") for v, q in lines],
    )


async def test_return_inspect_restock_and_refund(order_env: OrderEnv) -> None:
    env = order_env
    oil, soap = env.shop.variant(price=40000), env.shop.variant(price=20000)
    co, order = await delivered_cod(env, [(oil, 2), (soap, 1)])
    assert order.paid  # COD collected on delivery
    rid = secrets.token_hex(8)
    ret = await env.orders.RequestReturn(ask(order, [(oil, 1), (soap, 1)], rid), metadata=co.md)
    assert ret.state == pb.RETURN_STATE_REQUESTED
    again = await env.orders.RequestReturn(ask(order, [(oil, 1), (soap, 1)], rid), metadata=co.md)
    assert again.name == ret.name
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == S.ORDER_STATUS_RETURN_REQUESTED
    md = env.admin_md(ADMIN)
    approved = await env.admin.ApproveReturn(adm.ApproveReturnRequest(name=ret.name), metadata=md)
    assert approved.state == pb.RETURN_STATE_APPROVED and approved.pickup == "manual"
    stock = env.shop.variants[oil].stock, env.shop.variants[soap].stock
    done = await env.admin.InspectReturn(
        adm.InspectReturnRequest(
            name=ret.name,
            inspections=[
                adm.LineInspection(variant_id=oil, passed=True),
                adm.LineInspection(variant_id=soap, passed=False, note="opened"),
            ],
        ),
        metadata=md,
    )
    assert done.state == pb.RETURN_STATE_COMPLETED and done.refund
    results = {ln.variant_id: ln.inspection for ln in done.lines}
    assert results == {oil: pb.INSPECTION_RESULT_PASSED, soap: pb.INSPECTION_RESULT_FAILED}
    assert (env.shop.variants[oil].stock, env.shop.variants[soap].stock) == (
        stock[0] + 1,
        stock[1],
    )
    [refund] = (
        await env.admin.ListRefunds(adm.ListRefundsRequest(order=order.name), metadata=md)
    ).refunds
    oil_line = next(i for i in order.items if i.variant_id == oil)
    assert refund.amount.amount_minor == oil_line.total.amount_minor // 2
    assert (
        refund.method == pb.REFUND_METHOD_STORE_CREDIT and refund.state == pb.REFUND_STATE_PROCESSED
    )
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert [h.to_status for h in got.status_history][-3:] == [
        S.ORDER_STATUS_RETURN_REQUESTED,
        S.ORDER_STATUS_RETURNED,
        S.ORDER_STATUS_PARTIALLY_REFUNDED,
    ]


async def test_return_rules(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    co, order = await delivered_cod(env, [(oil, 1)])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.orders.RequestReturn(ask(order, [(oil, 2)]), metadata=co.md)
    assert "lines[0].quantity" in violations(err.value)
    with pytest.raises(grpc.aio.AioRpcError) as err:  # someone else's order
        await env.orders.RequestReturn(ask(order, [(oil, 1)]), metadata=env.customer())
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    handlers = env.wired.returns
    now = handlers.clock
    handlers.clock = lambda: now() + timedelta(days=8)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await env.orders.RequestReturn(ask(order, [(oil, 1)]), metadata=co.md)
        assert reason(err.value) == "RETURN_WINDOW_CLOSED"
    finally:
        handlers.clock = now
    # Not delivered yet: no return.
    co2 = await env.start_checkout([(env.shop.variant(), 1)])
    pending = await env.place(co2)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.orders.RequestReturn(
            ask(pending, [(pending.items[0].variant_id, 1)]), metadata=co2.md
        )
    assert reason(err.value) == "ILLEGAL_TRANSITION"


async def test_rejected_return_puts_the_order_back_to_delivered(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant()
    co, order = await delivered_cod(env, [(oil, 1)])
    ret = await env.orders.RequestReturn(ask(order, [(oil, 1)]), metadata=co.md)
    md = env.admin_md(ADMIN)
    rejected = await env.admin.RejectReturn(
        adm.RejectReturnRequest(name=ret.name, reason="used product"), metadata=md
    )
    assert rejected.state == pb.RETURN_STATE_REJECTED and rejected.reject_reason == "used product"
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == S.ORDER_STATUS_DELIVERED
    with pytest.raises(grpc.aio.AioRpcError) as err:  # nothing to inspect
        await env.admin.InspectReturn(
            adm.InspectReturnRequest(
                name=ret.name, inspections=[adm.LineInspection(variant_id=oil, passed=True)]
            ),
            metadata=md,
        )
    assert reason(err.value) == "ILLEGAL_TRANSITION"
