"""A cancellation's restock is recorded, not sent, in the transaction that cancels the
order (`order_restocks`: the plan, per reservation, with its request ids), and sent to
inventory after the commit. So no write waits for inventory while it is slow or
down, a restock cut off part-way is sent again exactly as first planned (same request
ids, same bodies: never IDEMPOTENCY_MISMATCH), and the sweeper finishes one left
PENDING once inventory is back; the units go back exactly once. Real gRPC over
loopback, on SQLite and PostgreSQL (tests/order/conftest.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from mesh import client
from mesh.db import utcnow
from mesh.errors import Unavailable
from services.order.domain import stock
from services.order.models import OrderRestock
from tests.order.conftest import OrderEnv
from tests.order.test_edits import edit_count, edit_req
from tests.order.test_edits_stock import reservation_of, stock_of
from tests.order.test_refunds import paid_online
from tests.order.test_restocks import edit_reservations, history
from tests.support.rpc import reason

ADMIN = ("orders.read", "orders.write", "refunds.write", "returns.write")
S = pb.OrderStatus


def oid_of(order: pb.Order) -> str:
    return order.name.rsplit("/", 1)[-1]


async def restock_row(env: OrderEnv, order: pb.Order) -> OrderRestock:
    async with env.wired.db.session() as s:
        rows = list(
            await s.scalars(select(OrderRestock).where(OrderRestock.order_id == oid_of(order)))
        )
    assert len(rows) == 1, rows
    return rows[0]


def history_reasons(rows: list[tuple[int, str]]) -> list[str]:
    return [r for _, r in rows]


def later(monkeypatch: pytest.MonkeyPatch, env: OrderEnv, seconds: float) -> None:
    """The sweeper's clock moved on (what is due)."""
    monkeypatch.setattr(env.wired.edits, "clock", lambda: utcnow() + timedelta(seconds=seconds))


def refused(why: str) -> float:
    return REGISTRY.get_sample_value("order_restocks_refused_total", {"reason": why}) or 0.0


async def test_a_restock_cut_off_part_way_is_finished_as_first_planned(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two oils taken by the order's reservation, a soap by an edit's. Cancelled, the
    order's part goes back and inventory goes down before the edit's part. The order
    is CANCELLED all the same; an admin edit of it is refused, so nothing can change
    what is out; the sweeper sends the recorded plan again once inventory is back:
    the first part replays (same request id, same body), the second goes through.
    Before, the cancel failed, the edit went through and the retried cancel asked the
    order's reservation again under the same request id for other units:
    IDEMPOTENCY_MISMATCH, and the oil went back more often than it was taken."""
    env = order_env
    md = env.admin_md(ADMIN)
    oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
    co = await env.start_checkout([(oil, 2)])
    order = await env.place(co)  # COD: confirmed, committed
    await env.admin.EditOrder(edit_req(order, [(soap, 1)]), metadata=md)
    base, [added] = await reservation_of(env, order), await edit_reservations(env, order)
    assert stock_of(env, oil, soap) == [3, 4]
    # The order's own reservation's part first, then the edit's (stock.request_ids).
    first_key = f"cancel-{oid_of(order)}"
    second_key = f"{first_key}-{added.rsplit('/', 1)[-1]}"
    mismatches = refused("IDEMPOTENCY_MISMATCH")

    async def cut_off(request: object) -> Unavailable | None:
        if getattr(request, "request_id", "") == second_key:
            return Unavailable("inventory is going down")
        return None

    env.inventory.before_restock = cut_off
    try:
        got = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
        assert got.status == S.ORDER_STATUS_CANCELLED
        assert stock_of(env, oil, soap) == [5, 4]  # the first part went back, only it
        row = await restock_row(env, order)
        assert (row.state, row.request_id, row.base_reservation) == ("PENDING", first_key, base)
        assert stock.plan_of(row.plan) == {base: {oil: 2}, added: {soap: 1}}
        assert row.retry_at is not None and row.error.startswith("stock not put back yet")
        assert history_reasons(await history(env, order))[-1].startswith("stock not put back yet")

        # The order cannot change under its recorded plan: an edit is refused.
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await env.admin.EditOrder(edit_req(order, [(oil, 1)]), metadata=md)
        assert reason(err.value) == "ORDER_NOT_EDITABLE"
        assert await edit_count(env, order) == 1

        # A repeat of the cancel while the edit's part is still refused: the same
        # requests again, nothing re-planned, no second history row.
        again = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
        assert again.status == S.ORDER_STATUS_CANCELLED
        assert len(again.status_history) == len(got.status_history)
        assert stock_of(env, oil, soap) == [5, 4]
    finally:
        env.inventory.before_restock = None

    # Inventory back: the sweeper finishes it, exactly once.
    client.reset_breakers()
    later(monkeypatch, env, 2 * 3600)
    done = await env.wired.edits.retry_restocks()
    assert done["DONE"] >= 1
    row = await restock_row(env, order)
    assert (row.state, row.error, row.retry_at, row.attempts) == ("DONE", "", None, 1)
    assert stock.plan_of(row.plan) == {base: {oil: 2}, added: {soap: 1}}  # as first recorded
    assert stock_of(env, oil, soap) == [5, 5]
    assert env.inventory.restocked_into(base) == {oil: 2}
    assert env.inventory.restocked_into(added) == {soap: 1}
    assert set(env.inventory.restocked) >= {first_key, second_key}
    assert refused("IDEMPOTENCY_MISMATCH") == mismatches
    await env.wired.edits.retry_restocks()
    assert stock_of(env, oil, soap) == [5, 5]

    # The history says what happened: left pending once, then put back.
    reasons = history_reasons(await history(env, order))
    assert len([r for r in reasons if r.startswith("stock not put back yet")]) == 1
    units = ", ".join(f"{v} x{q}" for v, q in sorted({oil: 2, soap: 1}.items()))
    assert reasons[-1] == f"stock put back: {units}"
    assert not [r for r in reasons if "refused" in r or "MISMATCH" in r]


async def test_a_paid_order_cancelled_with_inventory_down_is_refunded_and_restocked_later(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = order_env
    edits = env.wired.edits
    oil = env.shop.variant(price=30000, stock=5)
    co, order = await paid_online(env, [(oil, 2)])
    base = await reservation_of(env, order)
    assert stock_of(env, oil) == [3]

    await env.peers["inventory"].stop()
    try:
        got = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
        assert got.status in (S.ORDER_STATUS_REFUND_PENDING, S.ORDER_STATUS_REFUNDED) and got.paid
        [refund] = (
            await env.admin.ListRefunds(
                adm.ListRefundsRequest(order=order.name), metadata=env.admin_md(ADMIN)
            )
        ).refunds
        assert refund.amount.amount_minor == order.total.amount_minor
        assert refund.provider_refund_id  # sent to the gateway: inventory is no part of it
        first = await restock_row(env, order)
        assert first.state == "PENDING" and first.attempts == 0
        assert first.retry_at is not None and first.error.startswith("stock not put back yet")
        assert stock_of(env, oil) == [3]
        assert history_reasons(await history(env, order))[-1] == (
            "stock not put back yet (the sweeper sends it again): "
            + first.error.removeprefix("stock not put back yet: ")
        )

        # Not due yet: the sweep leaves it alone.
        await edits.retry_restocks()
        assert (await restock_row(env, order)).retry_at == first.retry_at
        # Due, inventory still down: PENDING, tried later (backoff), no new history row.
        later(monkeypatch, env, 2 * 3600)
        await edits.retry_restocks()
        second = await restock_row(env, order)
        assert second.state == "PENDING" and second.attempts == 1
        assert second.retry_at is not None and second.retry_at > first.retry_at
        assert len(await history(env, order)) == len(got.status_history)
        assert stock_of(env, oil) == [3]
    finally:
        await env.restart("inventory")

    later(monkeypatch, env, 24 * 3600)
    assert (await edits.retry_restocks())["DONE"] >= 1
    done = await restock_row(env, order)
    assert (done.state, done.error, done.retry_at, done.attempts) == ("DONE", "", None, 2)
    assert stock_of(env, oil) == [5]
    assert env.inventory.restocked_into(base) == {oil: 2}
    assert history_reasons(await history(env, order))[-1] == f"stock put back: {oil} x2"
    await edits.retry_restocks()
    again = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert again.paid and stock_of(env, oil) == [5]


async def test_no_write_waits_for_inventory_while_a_cancel_restocks(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inventory takes the cancel's restock and does not answer. Meanwhile a write to
    the same order (it takes the order row's lock, then refuses) and one to another
    order (on SQLite: the database's write lock) both answer, while inventory still
    holds the restock. Before, the cancel held the order row (and on SQLite every
    writer) until inventory answered or its deadline passed."""
    env = order_env
    md = env.admin_md(ADMIN)
    oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
    co = await env.start_checkout([(oil, 2)])
    order = await env.place(co)
    other = await env.place(await env.start_checkout([(soap, 1)]))
    # Inventory's deadline far beyond the waits below: only its answer ends the call.
    monkeypatch.setattr(env.wired.peers, "timeout", 60.0)
    held, release = asyncio.Event(), asyncio.Event()

    async def never_answer(request: object) -> None:
        if getattr(request, "request_id", "").startswith(f"cancel-{oid_of(order)}"):
            held.set()
            await release.wait()

    env.inventory.before_restock = never_answer
    cancel = asyncio.ensure_future(
        env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    )
    try:
        await asyncio.wait_for(held.wait(), 20)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await asyncio.wait_for(
                env.admin.UpdateOrderStatus(
                    adm.UpdateOrderStatusRequest(name=order.name, status=S.ORDER_STATUS_PACKED),
                    metadata=md,
                ),
                20,
            )
        assert reason(err.value) == "ILLEGAL_TRANSITION"  # already CANCELLED, committed
        packed = await asyncio.wait_for(
            env.admin.UpdateOrderStatus(
                adm.UpdateOrderStatusRequest(name=other.name, status=S.ORDER_STATUS_PACKED),
                metadata=md,
            ),
            20,
        )
        assert packed.status == S.ORDER_STATUS_PACKED
        # ... all while inventory still holds the restock, unanswered.
        assert not release.is_set() and not cancel.done()
        assert (await restock_row(env, order)).state == "PENDING"
    finally:
        release.set()
        env.inventory.before_restock = None
    got = await cancel
    assert got.status == S.ORDER_STATUS_CANCELLED
    assert (await restock_row(env, order)).state == "DONE"
    assert stock_of(env, oil, soap) == [5, 4]
