"""Units go back on the shelf against the reservation that took them.

Inventory's RestockReturn puts units back only against a reservation that reserved
their variant (else INVALID_ARGUMENT, nothing put back), into that reservation's
warehouse; the fake inventory checks the same. A confirmed order's units were taken
by its own reservation and by the reservation of each edit that added units, so a
cancellation, a return and an edit's removed units are restocked against each of
those, never more of a variant against a reservation than it took, and the stock
comes out exact."""

from __future__ import annotations

from cleanse.inventory.v1 import resources_pb2 as inv
from cleanse.order.v1 import checkout_service_pb2 as co_pb2
from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from services.order.domain import stock
from services.order.models import OrderEdit
from tests.order.conftest import OrderEnv
from tests.order.test_edits import edit_req
from tests.order.test_edits_stock import reservation_of, stock_of
from tests.order.test_returns import ask

ADMIN = ("orders.read", "orders.write", "refunds.write", "returns.write")
S = pb.OrderStatus


async def edit_reservations(env: OrderEnv, order: pb.Order) -> list[str]:
    """The reservations of the order's edits, oldest first ("" for none)."""
    from sqlalchemy import select

    async with env.wired.db.session() as s:
        rows = await s.scalars(
            select(OrderEdit)
            .where(OrderEdit.order_id == order.name.split("/")[1])
            .order_by(OrderEdit.create_time, OrderEdit.id)
        )
        return [e.reservation_name for e in rows]


def committed(env: OrderEnv, reservation: str) -> dict[str, int]:
    res = env.inventory.reservations[reservation]
    assert res.state == inv.RESERVATION_STATE_COMMITTED, res.state
    return {ln.variant_id: int(ln.quantity) for ln in res.lines}


def never_more_back_than_taken(env: OrderEnv, *reservations: str) -> None:
    for name in reservations:
        took = committed(env, name)
        back = env.inventory.restocked_into(name)
        assert all(q <= took.get(v, 0) for v, q in back.items()), (name, took, back)


async def test_cancel_puts_edited_in_units_back_against_the_edits_reservation(
    order_env: OrderEnv,
) -> None:
    env = order_env
    oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
    co = await env.start_checkout([(oil, 1)])
    order = await env.place(co)  # COD: confirmed, its unit committed
    await env.admin.EditOrder(edit_req(order, [(soap, 2)]), metadata=env.admin_md(ADMIN))
    assert stock_of(env, oil, soap) == [4, 3]
    base, [added] = await reservation_of(env, order), await edit_reservations(env, order)

    got = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert got.status == S.ORDER_STATUS_CANCELLED
    assert stock_of(env, oil, soap) == [5, 5]
    assert env.inventory.restocked_into(base) == {oil: 1}
    assert env.inventory.restocked_into(added) == {soap: 2}
    again = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert again.status == S.ORDER_STATUS_CANCELLED and stock_of(env, oil, soap) == [5, 5]


async def test_edit_removing_edited_in_units_restocks_them_where_they_were_taken(
    order_env: OrderEnv,
) -> None:
    env = order_env
    oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
    co = await env.start_checkout([(oil, 1)])
    order = await env.place(co)
    md = env.admin_md(ADMIN)
    await env.admin.EditOrder(edit_req(order, [(oil, 3), (soap, 2)]), metadata=md)
    assert stock_of(env, oil, soap) == [2, 3]
    # The edit added 2 oils and 2 soaps under its own reservation; this one takes one
    # oil and both soaps off the order: they go back against that reservation.
    got = await env.admin.EditOrder(edit_req(order, [(oil, 2), (soap, 0)]), metadata=md)
    assert {i.variant_id: i.quantity for i in got.order.items} == {oil: 2}
    assert stock_of(env, oil, soap) == [3, 5]
    base = await reservation_of(env, order)
    first, second = await edit_reservations(env, order)
    assert second == ""  # nothing added: nothing reserved
    assert env.inventory.restocked_into(first) == {oil: 1, soap: 2}
    assert env.inventory.restocked_into(base) == {}
    # Cancelled: the two oils left, one from each reservation.
    await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert stock_of(env, oil, soap) == [5, 5]
    assert env.inventory.restocked_into(base) == {oil: 1}
    assert env.inventory.restocked_into(first) == {oil: 2, soap: 2}
    never_more_back_than_taken(env, base, first)


async def test_returns_of_edited_in_units_restock_against_the_edits_reservation(
    order_env: OrderEnv,
) -> None:
    env = order_env
    oil, soap = env.shop.variant(price=40000, stock=5), env.shop.variant(price=20000, stock=5)
    co = await env.start_checkout([(oil, 1)])
    order = await env.place(co)
    md = env.admin_md(ADMIN)
    await env.admin.EditOrder(edit_req(order, [(soap, 2)]), metadata=md)
    for st in (S.ORDER_STATUS_PACKED, S.ORDER_STATUS_SHIPPED, S.ORDER_STATUS_DELIVERED):
        order = await env.admin.UpdateOrderStatus(
            adm.UpdateOrderStatusRequest(name=order.name, status=st), metadata=md
        )
    assert stock_of(env, oil, soap) == [4, 3]
    base, [added] = await reservation_of(env, order), await edit_reservations(env, order)

    async def returned(lines: list[tuple[str, int]]) -> pb.Return:
        ret = await env.orders.RequestReturn(ask(order, lines), metadata=co.md)
        await env.admin.ApproveReturn(adm.ApproveReturnRequest(name=ret.name), metadata=md)
        return await env.admin.InspectReturn(
            adm.InspectReturnRequest(
                name=ret.name,
                inspections=[adm.LineInspection(variant_id=v, passed=True) for v, _ in lines],
            ),
            metadata=md,
        )

    done = await returned([(oil, 1), (soap, 1)])
    assert done.state == pb.RETURN_STATE_COMPLETED and done.refund
    assert stock_of(env, oil, soap) == [5, 4]
    assert env.inventory.restocked_into(base) == {oil: 1}
    assert env.inventory.restocked_into(added) == {soap: 1}
    await returned([(soap, 1)])  # the last soap: from the edit's reservation too
    assert stock_of(env, oil, soap) == [5, 5]
    assert env.inventory.restocked_into(added) == {soap: 2}
    never_more_back_than_taken(env, base, added)


async def test_pending_edits_reservation_is_the_orders_and_later_edits_are_their_own(
    order_env: OrderEnv,
) -> None:
    """An edit before payment replaces the order's hold (the payment commits it, with
    every line); an edit after payment reserves only what it adds. Cancelled (paid:
    refunded), each unit goes back against the one that took it."""
    env = order_env
    oil, soap, cream = (env.shop.variant(price=30000, stock=5) for _ in range(3))
    co = await env.start_checkout([(oil, 1)], method="razorpay_upi")
    order = await env.place(co)
    md = env.admin_md(ADMIN)
    pending = await env.admin.EditOrder(edit_req(order, [(oil, 2), (soap, 1)]), metadata=md)
    pid, sig = env.razorpay.pay(pending.order.payment.provider_order_id)
    paid = await env.checkout.ConfirmPayment(
        co_pb2.ConfirmPaymentRequest(
            order=order.name,
            provider_order_id=pending.order.payment.provider_order_id,
            provider_payment_id=pid,
            signature=sig,
        ),
        metadata=co.md,
    )
    assert paid.status == S.ORDER_STATUS_CONFIRMED
    got = await env.admin.EditOrder(edit_req(order, [(cream, 1)]), metadata=md)
    assert got.edit.settlement == "BALANCE_PAYMENT"
    assert stock_of(env, oil, soap, cream) == [3, 4, 4]
    base = await reservation_of(env, order)
    hold, added = await edit_reservations(env, order)
    assert hold == base and committed(env, base) == {oil: 2, soap: 1}

    got_order = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert got_order.status in (S.ORDER_STATUS_REFUND_PENDING, S.ORDER_STATUS_REFUNDED)
    assert stock_of(env, oil, soap, cream) == [5, 5, 5]
    assert env.inventory.restocked_into(base) == {oil: 2, soap: 1}
    assert env.inventory.restocked_into(added) == {cream: 1}


# --- the plan itself (no I/O) -----------------------------------------------------------


def test_plan_takes_the_newest_reservation_first_and_counts_what_went_back() -> None:
    edits = [
        stock.EditStock("r1", added={"oil": 2, "soap": 2}, removed={}, restocked=[]),
        stock.EditStock(
            "",
            added={},
            removed={"oil": 1, "soap": 2},
            restocked=[("r1", "oil", 1), ("r1", "soap", 2)],
        ),
    ]
    pool = stock.Pool.of("r0", {"oil": 2}, edits)
    # Before either edit the order had one oil (from r0); r1 has one oil left out.
    assert pool.out == {"r0": {"oil": 1}, "r1": {"oil": 1}}
    assert pool.plan({"oil": 2}) == {"r1": {"oil": 1}, "r0": {"oil": 1}}
    # More than anything shows (an order from before plans were recorded): the
    # order's own reservation, as before.
    assert stock.Pool.of("r0", {"oil": 1}, []).plan({"oil": 3}) == {"r0": {"oil": 3}}
    # A variant only an edit ever took goes back there, whatever the history says.
    assert stock.Pool.of("r0", {"oil": 1}, edits[:1]).plan({"soap": 5}) == {"r1": {"soap": 5}}


def test_an_edit_removal_recorded_before_plans_counts_against_the_orders_reservation() -> None:
    legacy = stock.EditStock("", added={}, removed={"oil": 1}, restocked=None, done=True)
    pool = stock.Pool.of("r0", {"oil": 1}, [legacy])
    assert pool.out == {"r0": {"oil": 1}}


def test_request_ids_per_reservation() -> None:
    ids = stock.request_ids(
        "cancel-o1", {"reservations/b": {"x": 1}, "reservations/a": {"y": 1}}, "reservations/b"
    )
    assert ids == [
        ("cancel-o1", "reservations/b", {"x": 1}),
        ("cancel-o1-a", "reservations/a", {"y": 1}),
    ]
