"""Shipping's "shipment.status_changed" events move orders along (delivered through
the order service's own EventSinkService, as the outbox relay delivers them). The
order row is locked only for an event that changes the order: statuses the order
service ignores, and moves the order has already made, take no lock."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from cleanse.common.v1 import events_pb2, events_pb2_grpc
from cleanse.order.v1 import order_admin_service_pb2 as adm
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from cleanse.shipping.v1 import events_pb2 as ship_events
from cleanse.shipping.v1 import resources_pb2 as ship
from mesh import client
from services.order import repository
from services.order.models import PROCESSED_EVENTS, Order
from tests.order.conftest import OrderEnv

IGNORED = (
    ship.SHIPMENT_STATUS_CREATED,
    ship.SHIPMENT_STATUS_FAILED_DELIVERY,
    ship.SHIPMENT_STATUS_RTO,
    ship.SHIPMENT_STATUS_RTO_DELIVERED,
    ship.SHIPMENT_STATUS_CANCELLED,
    ship.SHIPMENT_STATUS_LOST,
)
RETURNS = ("orders.read", "orders.write", "refunds.write", "returns.write")


async def deliver(
    order: pb.Order,
    status: int,
    event_id: str = "",
    *,
    direction: int = ship.SHIPMENT_DIRECTION_FORWARD,
    shipment: str = "shipments/s1",
    return_request: str = "",
) -> bool:
    payload = ship_events.ShipmentStatusChangedEvent(
        shipment=shipment,
        order=order.name,
        order_number=order.order_number,
        direction=direction,
        status=status,
        carrier="Delhivery",
        awb="1234567890123",
        return_request=return_request,
    )
    ev = events_pb2.Event(
        event_id=event_id or secrets.token_hex(16),
        topic="shipment.status_changed",
        source="shipping",
    )
    ev.payload.Pack(payload)
    sink = client.stub("order", events_pb2_grpc.EventSinkServiceStub)
    resp = await sink.Deliver(events_pb2.DeliverRequest(event=ev))
    return resp.duplicate


@pytest.fixture
def locks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The ids of the orders whose row the order service locks (repository.locked)."""
    seen: list[str] = []
    real = repository.locked

    async def spy(s: Any, model: type, ident: str, *, lock: bool = True) -> object | None:
        if model is Order and lock:
            seen.append(ident)
        return await real(s, model, ident, lock=lock)

    monkeypatch.setattr(repository, "locked", spy)
    yield seen


def oid(order: pb.Order) -> str:
    return order.name.rsplit("/", 1)[-1]


async def test_forward_shipment_ships_and_delivers_the_order(order_env: OrderEnv) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 1)])
    order = await env.place(co)
    eid = secrets.token_hex(16)
    assert not await deliver(order, ship.SHIPMENT_STATUS_IN_TRANSIT, eid)
    assert await deliver(order, ship.SHIPMENT_STATUS_IN_TRANSIT, eid)  # redelivered: no-op
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_SHIPPED
    assert [(h.to_status, h.actor) for h in got.status_history][1:] == [
        (pb.ORDER_STATUS_PACKED, "shipping"),
        (pb.ORDER_STATUS_SHIPPED, "shipping"),
    ]
    await deliver(order, ship.SHIPMENT_STATUS_DELIVERED)
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_DELIVERED and got.paid  # COD collected
    assert got.payment.state == pb.PAYMENT_STATE_COLLECTED


async def processed_count(env: OrderEnv) -> int:
    async with env.wired.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(PROCESSED_EVENTS)) or 0)


async def test_only_events_that_change_the_order_lock_it(
    order_env: OrderEnv, locks: list[str]
) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 1)])
    order = await env.place(co)

    async def status() -> int:
        got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
        return got.status

    # Statuses the order service ignores: no lock, nothing changes, and nothing is
    # written, not even the processed-event mark (a redelivery changes nothing
    # either, so it is answered as new again).
    remembered = await processed_count(env)
    for st in IGNORED:
        eid = secrets.token_hex(16)
        assert not await deliver(order, st, eid)
        assert not await deliver(order, st, eid)
    assert locks == [] and await status() == pb.ORDER_STATUS_CONFIRMED
    assert await processed_count(env) == remembered
    # Picked up: the order moves, under the lock.
    await deliver(order, ship.SHIPMENT_STATUS_PICKED_UP)
    assert locks == [oid(order)] and await status() == pb.ORDER_STATUS_SHIPPED
    assert await processed_count(env) == remembered + 1  # an applied one is remembered
    # Scans of an order already SHIPPED change nothing: no lock.
    await deliver(order, ship.SHIPMENT_STATUS_IN_TRANSIT)
    await deliver(order, ship.SHIPMENT_STATUS_OUT_FOR_DELIVERY)
    assert locks == [oid(order)]
    await deliver(order, ship.SHIPMENT_STATUS_DELIVERED)
    assert locks == [oid(order)] * 2 and await status() == pb.ORDER_STATUS_DELIVERED
    # A second "delivered", or a late scan: nothing to do, no lock, no history row.
    await deliver(order, ship.SHIPMENT_STATUS_DELIVERED)
    await deliver(order, ship.SHIPMENT_STATUS_IN_TRANSIT)
    assert locks == [oid(order)] * 2
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert [h.to_status for h in got.status_history][1:] == [
        pb.ORDER_STATUS_PACKED,
        pb.ORDER_STATUS_SHIPPED,
        pb.ORDER_STATUS_DELIVERED,
    ]
    # An unknown order: nothing happens, nothing is locked.
    ghost = pb.Order(name=f"orders/{secrets.token_hex(16)}", order_number="CL-0")
    await deliver(ghost, ship.SHIPMENT_STATUS_DELIVERED)
    await deliver(ghost, ship.SHIPMENT_STATUS_CREATED)
    assert locks == [oid(order)] * 2


async def test_a_cancelled_order_is_not_locked_by_shipment_scans(
    order_env: OrderEnv, locks: list[str]
) -> None:
    env = order_env
    co = await env.start_checkout([(env.shop.variant(), 1)])
    order = await env.place(co)
    await env.orders.CancelOrder(
        o.CancelOrderRequest(name=order.name, reason="changed my mind"), metadata=co.md
    )
    locks.clear()
    for st in (ship.SHIPMENT_STATUS_IN_TRANSIT, ship.SHIPMENT_STATUS_DELIVERED):
        await deliver(order, st)
    assert locks == []
    got = await env.orders.GetOrder(o.GetOrderRequest(name=order.name), metadata=co.md)
    assert got.status == pb.ORDER_STATUS_CANCELLED


# Row locks are PostgreSQL's (SQLite serializes every writer): this runs there only.
@pytest.mark.parametrize("order_database_url", ["postgres"], indirect=True)
async def test_ignored_status_does_not_wait_for_a_locked_order(order_env: OrderEnv) -> None:
    """PostgreSQL: while another transaction holds the order row, an ignored status
    (or a move already made) is processed at once instead of queueing for the lock."""
    env = order_env
    assert env.backend == "postgres"
    co = await env.start_checkout([(env.shop.variant(), 1)])
    order = await env.place(co)
    await deliver(order, ship.SHIPMENT_STATUS_PICKED_UP)
    async with env.wired.db.transaction() as s:
        assert isinstance(await repository.locked(s, Order, oid(order)), Order)
        for st in (ship.SHIPMENT_STATUS_CREATED, ship.SHIPMENT_STATUS_IN_TRANSIT):
            assert not await asyncio.wait_for(deliver(order, st), 5)


async def test_return_pickup_events_mark_the_return_received(
    order_env: OrderEnv, locks: list[str]
) -> None:
    env = order_env
    oil = env.shop.variant(price=40000)
    co = await env.start_checkout([(oil, 1)])
    order = await env.place(co)
    await deliver(order, ship.SHIPMENT_STATUS_DELIVERED)
    ret = await env.orders.RequestReturn(
        o.RequestReturnRequest(
            order=order.name,
            request_id=secrets.token_hex(8),
            lines=[pb.ReturnLine(variant_id=oil, quantity=1, reason="damaged")],
        ),
        metadata=co.md,
    )
    md = env.admin_md(RETURNS)
    approved = await env.admin.ApproveReturn(adm.ApproveReturnRequest(name=ret.name), metadata=md)
    assert approved.pickup == "manual"  # no shipping service in these tests

    async def current() -> pb.Return:
        listed = await env.admin.ListReturns(adm.ListReturnsRequest(order=order.name), metadata=md)
        [r] = listed.returns
        return r

    back = {
        "direction": ship.SHIPMENT_DIRECTION_RETURN,
        "shipment": "shipments/r1",
        "return_request": ret.name,
    }
    locks.clear()
    await deliver(order, ship.SHIPMENT_STATUS_CREATED, **back)  # ignored: no lock
    assert locks == [] and (await current()).pickup == "manual"
    await deliver(order, ship.SHIPMENT_STATUS_PICKED_UP, **back)
    r = await current()
    assert r.pickup == "shipments/r1" and r.state == pb.RETURN_STATE_APPROVED
    await deliver(order, ship.SHIPMENT_STATUS_DELIVERED, **back)
    assert (await current()).state == pb.RETURN_STATE_RECEIVED
    assert locks == [oid(order)] * 2
