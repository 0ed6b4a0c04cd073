"""Order edits and stock: the order's own units count as available to it (a pending
order's hold is given back before the new line set is reserved; a confirmed order
reserves only the added units), with stock exactly what the order holds; and
"order.updated" for shipping once the order is confirmed."""

from __future__ import annotations

import grpc
import pytest

from cleanse.inventory.v1 import resources_pb2 as inv
from cleanse.order.v1 import checkout_service_pb2 as co_pb2
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from tests.order.conftest import OrderEnv, address
from tests.order.test_edits import ADMIN, edit_req
from tests.support.rpc import reason


def held(env: OrderEnv, name: str) -> dict[str, int]:
    res = env.inventory.reservations[name]
    assert res.state == inv.RESERVATION_STATE_HELD, res.state
    return {ln.variant_id: int(ln.quantity) for ln in res.lines}


async def reservation_of(env: OrderEnv, order: pb.Order) -> str:
    from services.order.models import Order

    async with env.wired.db.session() as s:
        row = await s.get(Order, order.name.split("/")[1])
        assert row is not None
        return row.reservation_name


async def test_pending_order_edit_counts_its_own_held_units(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(price=30000, stock=2)
    co = await env.start_checkout([(oil, 2)], method="razorpay_upi")
    order = await env.place(co)
    assert order.status == pb.ORDER_STATUS_PENDING_PAYMENT
    assert env.shop.variants[oil].stock == 0  # the order holds every unit there is
    md = env.admin_md(ADMIN)
    first = await reservation_of(env, order)

    # Lower: the order's own held units are enough; one unit goes back on the shelf.
    got = await env.admin.EditOrder(edit_req(order, [(oil, 1)]), metadata=md)
    assert [(i.variant_id, i.quantity) for i in got.order.items] == [(oil, 1)]
    assert env.shop.variants[oil].stock == 1
    assert env.inventory.reservations[first].state == inv.RESERVATION_STATE_RELEASED
    assert held(env, await reservation_of(env, order)) == {oil: 1}

    # Raise again within stock (one of its own, one from the shelf).
    got = await env.admin.EditOrder(edit_req(order, [(oil, 2)]), metadata=md)
    assert [(i.variant_id, i.quantity) for i in got.order.items] == [(oil, 2)]
    assert env.shop.variants[oil].stock == 0
    assert held(env, await reservation_of(env, order)) == {oil: 2}

    # Keep the quantity and change the address: nothing to reserve.
    got = await env.admin.EditOrder(
        edit_req(order, [(oil, 2)], delivery_address=address("400001", "MH")), metadata=md
    )
    assert got.order.status == pb.ORDER_STATUS_PENDING_PAYMENT
    assert env.shop.variants[oil].stock == 0

    # Beyond stock: refused, and the order still holds its two units.
    before = await env.admin.GetOrder(o.GetOrderRequest(name=order.name), metadata=md)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.EditOrder(edit_req(order, [(oil, 3)]), metadata=md)
    assert reason(err.value) == "OUT_OF_STOCK"
    after = await env.admin.GetOrder(o.GetOrderRequest(name=order.name), metadata=md)
    assert after.total.amount_minor == before.total.amount_minor
    assert [(i.variant_id, i.quantity) for i in after.items] == [(oil, 2)]
    assert env.shop.variants[oil].stock == 0
    assert held(env, await reservation_of(env, order)) == {oil: 2}

    # The customer pays the current Razorpay order: the order's hold is committed.
    pid, sig = env.razorpay.pay(after.payment.provider_order_id)
    paid = await env.checkout.ConfirmPayment(
        co_pb2.ConfirmPaymentRequest(
            order=order.name,
            provider_order_id=after.payment.provider_order_id,
            provider_payment_id=pid,
            signature=sig,
        ),
        metadata=co.md,
    )
    assert paid.status == pb.ORDER_STATUS_CONFIRMED
    # The answer carries the edits made while it awaited payment (three accepted).
    assert len(paid.edits) == 3
    assert [e.name for e in paid.edits] == [e.name for e in after.edits]
    final = env.inventory.reservations[await reservation_of(env, order)]
    assert final.state == inv.RESERVATION_STATE_COMMITTED
    assert {ln.variant_id: ln.quantity for ln in final.lines} == {oil: 2}
    assert env.shop.variants[oil].stock == 0


async def test_pending_edit_retried_after_a_refusal_reserves_afresh(order_env: OrderEnv) -> None:
    env = order_env
    oil, soap = env.shop.variant(stock=1), env.shop.variant(stock=1)
    co = await env.start_checkout([(oil, 1)], method="razorpay_upi")
    order = await env.place(co)
    md = env.admin_md(ADMIN)
    req = edit_req(order, [(soap, 1)])
    env.shop.variants[soap].stock = 0  # sold out for now
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.EditOrder(req, metadata=md)
    assert reason(err.value) == "OUT_OF_STOCK"
    assert env.shop.variants[oil].stock == 0  # the order's unit is held again
    env.shop.variants[soap].stock = 1  # back in stock: the same request succeeds
    got = await env.admin.EditOrder(req, metadata=md)
    assert {i.variant_id: i.quantity for i in got.order.items} == {oil: 1, soap: 1}
    assert held(env, await reservation_of(env, order)) == {oil: 1, soap: 1}
    assert env.shop.variants[oil].stock == 0 and env.shop.variants[soap].stock == 0


async def test_confirmed_order_edit_with_stock_exactly_committed(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(price=30000, stock=2)
    order = await env.place(await env.start_checkout([(oil, 2)]))  # COD: committed
    assert order.status == pb.ORDER_STATUS_CONFIRMED
    assert env.shop.variants[oil].stock == 0
    md = env.admin_md(ADMIN)
    # Keep the quantity, new address: nothing to reserve.
    got = await env.admin.EditOrder(
        edit_req(order, [(oil, 2)], delivery_address=address("400001", "MH")), metadata=md
    )
    assert got.order.status == pb.ORDER_STATUS_CONFIRMED
    # Lower: one unit back on the shelf; raise within stock: that unit again.
    await env.admin.EditOrder(edit_req(order, [(oil, 1)]), metadata=md)
    assert env.shop.variants[oil].stock == 1
    await env.admin.EditOrder(edit_req(order, [(oil, 2)]), metadata=md)
    assert env.shop.variants[oil].stock == 0
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.EditOrder(edit_req(order, [(oil, 3)]), metadata=md)
    assert reason(err.value) == "OUT_OF_STOCK"


async def updated_events(env: OrderEnv, order: pb.Order) -> list[order_events.OrderUpdatedEvent]:
    events = await env.outbox_events("order.updated", order_events.OrderUpdatedEvent)
    return sorted((e for e in events if e.order == order.name), key=lambda e: e.revision)


async def test_confirmed_order_edit_publishes_order_updated(order_env: OrderEnv) -> None:
    env = order_env
    oil, soap = env.shop.variant(price=30000), env.shop.variant(price=20000)
    order = await env.place(await env.start_checkout([(oil, 1)]))
    md = env.admin_md(ADMIN)
    got = await env.admin.EditOrder(
        edit_req(order, [(soap, 2)], delivery_address=address("400001", "MH"), reason="called"),
        metadata=md,
    )
    [ev] = await updated_events(env, order)
    assert ev.revision == 1 and ev.edit == got.edit.name and ev.reason == "called"
    assert ev.lines_changed and ev.address_changed
    assert {(ln.variant_id, ln.quantity) for ln in ev.lines} == {(oil, 1), (soap, 2)}
    assert ev.item_count == 3 and ev.order_number == order.order_number
    assert ev.delivery_address.pincode == "400001" and ev.pincode == "400001"
    assert ev.state_code == "MH" and ev.phone == order.phone
    # COD: the cash to collect is the new total.
    assert ev.cod_amount.amount_minor == got.order.total.amount_minor == ev.total.amount_minor
    assert all(ln.sku for ln in ev.lines)
    await env.admin.EditOrder(edit_req(order, [(oil, 0)]), metadata=md)
    evs = await updated_events(env, order)
    assert [e.revision for e in evs] == [1, 2]
    assert not evs[1].address_changed and evs[1].lines_changed
    assert [(ln.variant_id, ln.quantity) for ln in evs[1].lines] == [(soap, 2)]
    # The event is in the outbox for shipping only.
    subscribers = env.wired.outbox.subscribers("order.updated")
    assert subscribers == ("shipping",)


async def test_pending_order_edit_publishes_nothing(order_env: OrderEnv) -> None:
    env = order_env
    oil = env.shop.variant(stock=5)
    order = await env.place(await env.start_checkout([(oil, 1)], method="razorpay_upi"))
    await env.admin.EditOrder(edit_req(order, [(oil, 2)]), metadata=env.admin_md(ADMIN))
    assert await updated_events(env, order) == []  # its order.placed (later) has the edit


def test_updated_event_reads_like_the_placed_event() -> None:
    """Fields 1-16 of OrderUpdatedEvent are OrderPlacedEvent's, so a consumer reads
    both through one view."""
    placed = order_events.OrderPlacedEvent.DESCRIPTOR
    updated = order_events.OrderUpdatedEvent.DESCRIPTOR
    for f in placed.fields:
        other = updated.fields_by_number[f.number]
        assert (other.name, other.type, other.is_repeated) == (f.name, f.type, f.is_repeated)
        if f.message_type is not None:
            assert other.message_type.full_name == f.message_type.full_name


# --- a confirmed order's edit undone, then retried with the same request id ---------------


def stock_of(env: OrderEnv, *variants: str) -> list[int]:
    return [env.shop.variants[v].stock for v in variants]


def reservations_of(env: OrderEnv, variant: str) -> list[inv.Reservation]:
    return [
        r
        for r in env.inventory.reservations.values()
        if any(ln.variant_id == variant for ln in r.lines)
    ]


def committed_units(env: OrderEnv, variant: str) -> int:
    """Units of `variant` that inventory sold (committed) and did not take back."""
    sold = sum(
        ln.quantity
        for r in reservations_of(env, variant)
        if r.state == inv.RESERVATION_STATE_COMMITTED
        for ln in r.lines
        if ln.variant_id == variant
    )
    back = sum(q for lines in env.inventory.restocked.values() for v, q in lines if v == variant)
    return sold - back


async def test_confirmed_edit_retried_after_a_failure_takes_its_units_again(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edit's transaction fails after the added units were reserved: they go back on
    the shelf, and a retry of the same request takes them again (it must not count the
    given-back reservation as holding them)."""
    from services.order.handlers import notify

    env = order_env
    oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
    order = await env.place(await env.start_checkout([(oil, 1)]))  # COD: committed
    assert order.status == pb.ORDER_STATUS_CONFIRMED
    md = env.admin_md(ADMIN)
    req = edit_req(order, [(soap, 2)])
    real, failures = notify.order_updated, [RuntimeError("the database went away")]

    async def fails_once(*args, **kw):  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        return await real(*args, **kw)

    monkeypatch.setattr(notify, "order_updated", fails_once)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.EditOrder(req, metadata=md)
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert stock_of(env, oil, soap) == [4, 5]  # undone: the two soaps are back
    assert committed_units(env, soap) == 0

    got = await env.admin.EditOrder(req, metadata=md)  # the same request again
    assert {i.variant_id: i.quantity for i in got.order.items} == {oil: 1, soap: 2}
    assert stock_of(env, oil, soap) == [4, 3]  # the retry took its two units
    assert committed_units(env, soap) == 2
    again = await env.admin.EditOrder(req, metadata=md)  # a replay moves no stock
    assert again.edit.name == got.edit.name and stock_of(env, oil, soap) == [4, 3]


async def test_confirmed_edit_retried_after_a_concurrent_change_takes_its_units_again(
    order_env: OrderEnv,
) -> None:
    """Another admin's edit lands while this one reserves: this one is undone
    (CONCURRENT_CHANGE) and its retry reserves afresh."""
    env = order_env
    oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
    order = await env.place(await env.start_checkout([(oil, 1)]))
    md = env.admin_md(ADMIN)
    req = edit_req(order, [(soap, 2)])
    other = edit_req(order, [(oil, 2)])

    async def meanwhile(request) -> None:  # type: ignore[no-untyped-def]
        if any(ln.variant_id == soap for ln in request.lines):
            env.inventory.before_reserve = None
            await env.admin.EditOrder(other, metadata=md)

    env.inventory.before_reserve = meanwhile
    try:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await env.admin.EditOrder(req, metadata=md)
    finally:
        env.inventory.before_reserve = None
    assert reason(err.value) == "CONCURRENT_CHANGE"
    assert stock_of(env, oil, soap) == [3, 5]
    got = await env.admin.EditOrder(req, metadata=md)
    assert {i.variant_id: i.quantity for i in got.order.items} == {oil: 2, soap: 2}
    assert stock_of(env, oil, soap) == [3, 3]
    assert committed_units(env, soap) == 2


async def test_confirmed_edit_whose_commit_answer_was_lost_is_given_back_once(
    order_env: OrderEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inventory committed the added units but its answer never came: the edit is
    undone by putting them back (once), and the retry takes them again."""
    env = order_env
    oil, soap = env.shop.variant(price=30000, stock=5), env.shop.variant(price=20000, stock=5)
    order = await env.place(await env.start_checkout([(oil, 1)]))
    md = env.admin_md(ADMIN)
    req = edit_req(order, [(soap, 2)])
    peers = env.wired.edits.peers
    real = peers.commit_reservation

    async def lost_answer(name: str):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(peers, "commit_reservation", real)
        await real(name)
        from mesh.errors import Unavailable

        raise Unavailable("inventory did not answer")

    monkeypatch.setattr(peers, "commit_reservation", lost_answer)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.admin.EditOrder(req, metadata=md)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert stock_of(env, oil, soap) == [4, 5] and committed_units(env, soap) == 0
    got = await env.admin.EditOrder(req, metadata=md)
    assert {i.variant_id: i.quantity for i in got.order.items} == {oil: 1, soap: 2}
    assert stock_of(env, oil, soap) == [4, 3] and committed_units(env, soap) == 2
