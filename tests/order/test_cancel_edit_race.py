"""A cancellation racing an admin edit of the same confirmed order. The cancel plans
its restock from the order's lines and reservations; an edit changes those lines,
reserves (and commits) the units it adds and records where its removed units go back.
Both do it with the order row locked, so whichever is second sees the first: an edit
after the cancel is refused (ORDER_NOT_EDITABLE), a cancel after the edit puts back
what the order has out after it. Stock ends exact either way, and the history is
consistent (an "edited" row only before the cancellation)."""

from __future__ import annotations

import asyncio

import grpc

from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from tests.order.conftest import OrderEnv
from tests.order.test_edits import edit_count, edit_req
from tests.order.test_edits_stock import stock_of
from tests.order.test_restocks import history
from tests.support.rpc import reason

ADMIN = ("orders.read", "orders.write", "refunds.write", "returns.write")
S = pb.OrderStatus


async def check(env: OrderEnv, order: pb.Order, edit: object, stock: list[int], *v: str) -> None:
    got = await env.admin.GetOrder(o.GetOrderRequest(name=order.name), metadata=env.admin_md())
    assert got.status == S.ORDER_STATUS_CANCELLED
    rows = await history(env, order)
    assert not [r for _, r in rows if r.startswith("stock not put back")], rows
    edited = [i for i, (_, r) in enumerate(rows) if r.startswith("edited")]
    cancelled = [i for i, (t, r) in enumerate(rows) if t == S.ORDER_STATUS_CANCELLED]
    if isinstance(edit, BaseException):
        assert isinstance(edit, grpc.aio.AioRpcError), edit
        assert reason(edit) in ("ORDER_NOT_EDITABLE", "CONCURRENT_CHANGE"), edit
        assert not edited and await edit_count(env, order) == 0
    else:
        assert len(edited) == 1 and edited[0] < cancelled[0]
    assert stock_of(env, *v) == stock


async def test_an_edit_committing_while_a_cancel_restocks(order_env: OrderEnv) -> None:
    """The cancel is in its restock (held there until an edit is recorded, or half a
    second) when the edit arrives: the edit must not slip in between the cancel's plan
    and its restock."""
    env = order_env
    oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
    co = await env.start_checkout([(oil, 2)])
    order = await env.place(co)  # COD: confirmed, committed
    oid = order.name.rsplit("/", 1)[-1]
    entered = asyncio.Event()

    async def hold_cancel(request: object) -> None:
        if getattr(request, "request_id", "").startswith(f"cancel-{oid}"):
            entered.set()
            for _ in range(20):
                if await edit_count(env, order):
                    break
                await asyncio.sleep(0.025)

    env.inventory.before_restock = hold_cancel
    try:
        cancel = asyncio.ensure_future(
            env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
        )
        await asyncio.wait_for(entered.wait(), 10)
        [edit] = await asyncio.gather(
            env.admin.EditOrder(
                edit_req(order, [(oil, 1), (soap, 1)]), metadata=env.admin_md(ADMIN)
            ),
            return_exceptions=True,
        )
        await cancel
    finally:
        env.inventory.before_restock = None
    assert isinstance(edit, grpc.aio.AioRpcError) and reason(edit) == "ORDER_NOT_EDITABLE"
    await check(env, order, edit, [5, 5], oil, soap)


async def test_cancel_and_edit_at_once(order_env: OrderEnv) -> None:
    env = order_env
    for _ in range(6):
        oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
        co = await env.start_checkout([(oil, 2)])
        order = await env.place(co)
        _, edit = await asyncio.gather(
            env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md),
            env.admin.EditOrder(
                edit_req(order, [(oil, 1), (soap, 1)]), metadata=env.admin_md(ADMIN)
            ),
            return_exceptions=True,
        )
        await check(env, order, edit, [5, 5], oil, soap)
