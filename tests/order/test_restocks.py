"""Units go back on the shelf against the reservation that took them.

Inventory's RestockReturn puts units back only against a COMMITTED reservation
(else RESERVATION_NOT_COMMITTED) that reserved their variant (else
INVALID_ARGUMENT), never more of a variant than the reservation still has out (else
RESTOCK_EXCEEDS_RESERVATION), into the warehouses that reservation took them from;
a refusal puts nothing back. The fake inventory refuses the same. A confirmed
order's units were taken by its own reservation and by the reservation of each edit
that added units, so a cancellation, a return and an edit's removed units are
restocked against each of those, never more of a variant against a reservation than
it still has out by the order's records, and the stock comes out exact. When
inventory's books disagree and it refuses anyway, the cancellation and the return go
ahead with the refusal on the order's history, and an edit's restock stays PENDING
with inventory's reason."""

from __future__ import annotations

from cleanse.inventory.v1 import resources_pb2 as inv
from cleanse.order.v1 import checkout_service_pb2 as co_pb2
from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from services.order.domain import stock
from services.order.models import OrderEdit, Return
from tests.order.conftest import Checkout, OrderEnv
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


async def deliver(env: OrderEnv, order: pb.Order) -> pb.Order:
    md = env.admin_md(ADMIN)
    for st in (S.ORDER_STATUS_PACKED, S.ORDER_STATUS_SHIPPED, S.ORDER_STATUS_DELIVERED):
        order = await env.admin.UpdateOrderStatus(
            adm.UpdateOrderStatusRequest(name=order.name, status=st), metadata=md
        )
    return order


async def return_passed(
    env: OrderEnv, co: Checkout, order: pb.Order, lines: list[tuple[str, int]]
) -> pb.Return:
    """A return of `lines`, approved and every line passed."""
    md = env.admin_md(ADMIN)
    ret = await env.orders.RequestReturn(ask(order, lines), metadata=co.md)
    await env.admin.ApproveReturn(adm.ApproveReturnRequest(name=ret.name), metadata=md)
    return await env.admin.InspectReturn(
        adm.InspectReturnRequest(
            name=ret.name,
            inspections=[adm.LineInspection(variant_id=v, passed=True) for v, _ in lines],
        ),
        metadata=md,
    )


async def as_from_before_plans(env: OrderEnv, ret: pb.Return, base: str) -> None:
    """Rewrite an inspected return as one from before restock plans were recorded: its
    passed lines carry no plan, and inventory had its units back against the order's
    own reservation (all a return was ever sent against then, as `return-<id>`)."""
    rid = ret.name.rsplit("/", 1)[-1]
    async with env.wired.db.transaction() as s:
        row = await s.get(Return, rid)
        assert row is not None
        row.lines = [{k: v for k, v in ln.items() if k != "restock_from"} for ln in row.lines]
    inv_ = env.inventory
    units: dict[str, int] = {}
    for key in [
        k for k in inv_.restocked if k == f"return-{rid}" or k.startswith(f"return-{rid}-")
    ]:
        for v, q in inv_.restocked.pop(key):
            units[v] = units.get(v, 0) + q
        inv_.restocked_against.pop(key)
        inv_._restock_bodies.pop(key)
    inv_.restocked[f"return-{rid}"] = sorted(units.items())
    inv_.restocked_against[f"return-{rid}"] = base


async def history(env: OrderEnv, order: pb.Order) -> list[tuple[int, str]]:
    got = await env.admin.GetOrder(o.GetOrderRequest(name=order.name), metadata=env.admin_md())
    return [(h.to_status, h.reason) for h in got.status_history]


async def test_a_return_from_before_plans_does_not_over_ask_the_orders_reservation(
    order_env: OrderEnv,
) -> None:
    """One oil taken by the order's reservation, one by an edit's. The first return
    was inspected before plans were recorded, so it went back against the order's
    reservation. The second must go back against the edit's: the order's has nothing
    left out (it used to be asked, and inventory refused RESTOCK_EXCEEDS_RESERVATION)."""
    env = order_env
    oil = env.shop.variant(price=40000, stock=5)
    co = await env.start_checkout([(oil, 1)])
    order = await env.place(co)
    await env.admin.EditOrder(edit_req(order, [(oil, 2)]), metadata=env.admin_md(ADMIN))
    order = await deliver(env, order)
    base, [added] = await reservation_of(env, order), await edit_reservations(env, order)
    assert stock_of(env, oil) == [3]

    first = await return_passed(env, co, order, [(oil, 1)])
    await as_from_before_plans(env, first, base)
    assert env.inventory.still_out(base) == {oil: 0}
    assert env.inventory.still_out(added) == {oil: 1}

    second = await return_passed(env, co, order, [(oil, 1)])
    assert second.state == pb.RETURN_STATE_COMPLETED and second.refund
    assert env.inventory.restocked_into(base) == {oil: 1}
    assert env.inventory.restocked_into(added) == {oil: 1}
    assert stock_of(env, oil) == [5]
    never_more_back_than_taken(env, base, added)
    assert not [r for _, r in await history(env, order) if "not put back" in r]


async def test_a_plan_sends_nothing_for_units_no_reservation_has_out(order_env: OrderEnv) -> None:
    """The first return's unit went back twice, and the order's records say so (its
    plan: two units against the order's reservation; inventory counted both). The
    second return's unit is then out under no reservation: the plan keeps it under
    NOT_OUT and sends nothing (it used to ask the order's reservation for it, which
    inventory refuses: RESTOCK_EXCEEDS_RESERVATION); the return completes, the stock
    is exact and the history says what was not sent."""
    env = order_env
    oil = env.shop.variant(price=40000, stock=5)
    co = await env.start_checkout([(oil, 2)])
    order = await deliver(env, await env.place(co))
    base = await reservation_of(env, order)
    first = await return_passed(env, co, order, [(oil, 1)])
    async with env.wired.db.transaction() as s:
        row = await s.get(Return, first.name.rsplit("/", 1)[-1])
        assert row is not None and row.lines[0]["restock_from"] == [[base, 1]]
        row.lines = [{**row.lines[0], "restock_from": [[base, 2]]}]
    env.inventory.put_back_by_hand(base, {oil: 1})
    assert env.inventory.still_out(base) == {oil: 0} and stock_of(env, oil) == [5]

    second = await return_passed(env, co, order, [(oil, 1)])
    assert second.state == pb.RETURN_STATE_COMPLETED and second.refund
    assert stock_of(env, oil) == [5]
    never_more_back_than_taken(env, base)
    rid = second.name.rsplit("/", 1)[-1]
    assert not [k for k in env.inventory.restocked if k.startswith(f"return-{rid}")]
    async with env.wired.db.session() as s:
        again = await s.get(Return, rid)
        assert again is not None and again.lines[0]["restock_from"] == [[stock.NOT_OUT, 1]]
    assert (
        f"return {rid}: stock not put back: not sent: {oil} x1 "
        "(no reservation of the order has them out)"
    ) in [r for _, r in await history(env, order)]


async def test_cancel_goes_ahead_when_inventory_refuses_a_restock(order_env: OrderEnv) -> None:
    """Inventory's books say one of the order's two oils is back already (a restock
    against its reservation made elsewhere). Cancelled, the order's plan asks for both:
    inventory refuses that reservation's part (RESTOCK_EXCEEDS_RESERVATION, nothing
    of it put back) and the edit's soap still goes back. The order is cancelled, the
    refusal on its history; a repeat sends nothing again."""
    env = order_env
    oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
    co = await env.start_checkout([(oil, 2)])
    order = await env.place(co)
    await env.admin.EditOrder(edit_req(order, [(soap, 1)]), metadata=env.admin_md(ADMIN))
    base, [added] = await reservation_of(env, order), await edit_reservations(env, order)
    env.inventory.put_back_by_hand(base, {oil: 1})
    assert stock_of(env, oil, soap) == [4, 4]

    got = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert got.status == S.ORDER_STATUS_CANCELLED
    assert stock_of(env, oil, soap) == [4, 5]  # the oil refused, the soap back
    assert env.inventory.restocked_into(added) == {soap: 1}
    assert f"cancel-{order.name.rsplit('/', 1)[-1]}" not in env.inventory.restocked
    to_status, reason = (await history(env, order))[-1]
    assert to_status == S.ORDER_STATUS_CANCELLED
    assert reason.startswith("stock not put back: ")
    assert f"{base} refused {oil} x2: RESTOCK_EXCEEDS_RESERVATION" in reason
    assert f"still out: {oil}=1" in reason
    again = await env.orders.CancelOrder(o.CancelOrderRequest(name=order.name), metadata=co.md)
    assert again.status == S.ORDER_STATUS_CANCELLED and stock_of(env, oil, soap) == [4, 5]
    assert len(await history(env, order)) == len(got.status_history)


async def test_an_edits_refused_restock_stays_pending_with_inventorys_reason(
    order_env: OrderEnv,
) -> None:
    """The edit takes one oil off; inventory's books say both are back already, so it
    refuses. The edit is recorded, its restock PENDING with inventory's reason (in the
    edit's notes); a retry gets the same answer. Once inventory's books are put right,
    a retry of the request id puts the unit back and the note goes."""
    env = order_env
    oil = env.shop.variant(price=30000, stock=5)
    co = await env.start_checkout([(oil, 2)])
    order = await env.place(co)
    base = await reservation_of(env, order)
    by_hand = env.inventory.put_back_by_hand(base, {oil: 2})
    md = env.admin_md(ADMIN)
    req = edit_req(order, [(oil, 1)])
    got = await env.admin.EditOrder(req, metadata=md)
    assert {i.variant_id: i.quantity for i in got.order.items} == {oil: 1}
    [note] = [n for n in got.edit.notes if n.startswith("restock pending: ")]
    assert f"{base} refused {oil} x1: RESTOCK_EXCEEDS_RESERVATION" in note
    assert f"still out: {oil}=0" in note
    edit_id = got.edit.name.rsplit("/", 1)[-1]

    async def row() -> OrderEdit:
        async with env.wired.db.session() as s:
            e = await s.get(OrderEdit, edit_id)
            assert e is not None
            return e

    assert (await row()).restock_state == "PENDING"
    again = await env.admin.EditOrder(req, metadata=md)
    assert again.edit.notes == got.edit.notes and (await row()).restock_state == "PENDING"
    assert f"edit-{edit_id}" not in env.inventory.restocked

    env.inventory.undo_restock(by_hand)  # inventory's books put right: 2 out
    assert stock_of(env, oil) == [3]
    done = await env.admin.EditOrder(req, metadata=md)
    assert not [n for n in done.edit.notes if n.startswith("restock pending")]
    e = await row()
    assert (e.restock_state, e.restock_error) == ("DONE", "")
    assert env.inventory.restocked_into(base) == {oil: 1}
    assert stock_of(env, oil) == [4]


async def test_a_return_goes_ahead_when_inventory_refuses_its_restock(
    order_env: OrderEnv,
) -> None:
    """Inventory does not have the order's reservation as committed (its books
    disagree): the return's restock is refused (RESERVATION_NOT_COMMITTED), and the
    return still completes and is refunded, the refusal on the order's history, once
    although the inspection is sent again."""
    env = order_env
    oil = env.shop.variant(price=40000, stock=5)
    co = await env.start_checkout([(oil, 2)])
    order = await deliver(env, await env.place(co))
    base = await reservation_of(env, order)
    env.inventory.reservations[base].state = inv.RESERVATION_STATE_HELD
    done = await return_passed(env, co, order, [(oil, 1)])
    assert done.state == pb.RETURN_STATE_COMPLETED and done.refund
    assert stock_of(env, oil) == [3] and env.inventory.restocked_into(base) == {}
    rid = done.name.rsplit("/", 1)[-1]
    notes = [r for _, r in await history(env, order) if r.startswith(f"return {rid}: ")]
    assert notes == [
        f"return {rid}: stock not put back: {base} refused {oil} x1: "
        "RESERVATION_NOT_COMMITTED (reservation is held, not committed)"
    ]
    await env.admin.InspectReturn(
        adm.InspectReturnRequest(
            name=done.name, inspections=[adm.LineInspection(variant_id=oil, passed=True)]
        ),
        metadata=env.admin_md(ADMIN),
    )
    assert len([r for _, r in await history(env, order) if r.startswith(f"return {rid}: ")]) == 1


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


def test_a_plan_never_asks_a_reservation_for_more_than_it_has_out() -> None:
    """More than the records show out (history from before plans were recorded, books
    that disagree): each reservation is asked at most what it has out; the rest is
    kept under NOT_OUT and sent nowhere (inventory would refuse it:
    RESTOCK_EXCEEDS_RESERVATION, and by the records it is not out)."""
    plan = stock.Pool.of("r0", {"oil": 1}, []).plan({"oil": 3})
    assert plan == {"r0": {"oil": 1}, stock.NOT_OUT: {"oil": 2}}
    assert stock.not_out(plan) == {"oil": 2}
    assert stock.request_ids("cancel-o1", plan, "r0") == [("cancel-o1", "r0", {"oil": 1})]
    # Recorded and read back, the units sent nowhere are still accounted for, and
    # count against no reservation.
    assert stock.plan_of(stock.triples(plan)) == plan
    edits = [stock.EditStock("r1", added={"oil": 2, "soap": 2}, removed={}, restocked=[])]
    # A variant only an edit ever took: never more than that edit's reservation took.
    pool = stock.Pool.of("r0", {"oil": 3, "soap": 2}, edits)
    assert pool.plan({"soap": 5}) == {"r1": {"soap": 2}, stock.NOT_OUT: {"soap": 3}}
    assert pool.out == {"r0": {"oil": 1}, "r1": {"oil": 2}}
    # An edit whose plan sent units nowhere: they came off no reservation.
    removal = stock.EditStock(
        "", added={}, removed={"oil": 2}, restocked=[("r1", "oil", 1), (stock.NOT_OUT, "oil", 1)]
    )
    assert stock.Pool.of("r0", {"oil": 1, "soap": 2}, [*edits, removal]).out == {
        "r0": {"oil": 1},
        "r1": {"oil": 1, "soap": 2},
    }


def test_a_return_from_before_plans_counts_against_the_orders_reservation() -> None:
    """A return inspected before plans were recorded was sent against the order's own
    reservation: it is counted there, so a later return goes to what is still out (it
    used to be counted newest first, and the later one then asked the order's
    reservation for a unit it had given back already)."""
    edits = [stock.EditStock("r1", added={"oil": 1}, removed={}, restocked=[])]
    pool = stock.Pool.of("r0", {"oil": 2}, edits, returned_unplanned=[{"oil": 1}])
    assert pool.out == {"r1": {"oil": 1}}
    assert pool.plan({"oil": 1}) == {"r1": {"oil": 1}}


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
