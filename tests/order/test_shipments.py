"""Shipping's "shipment.status_changed" events move orders along (delivered through
the order service's own EventSinkService, as the outbox relay delivers them)."""

from __future__ import annotations

import secrets

from cleanse.common.v1 import events_pb2, events_pb2_grpc
from cleanse.order.v1 import order_service_pb2 as o
from cleanse.order.v1 import resources_pb2 as pb
from cleanse.shipping.v1 import events_pb2 as ship_events
from cleanse.shipping.v1 import resources_pb2 as ship
from mesh import client
from tests.order.conftest import OrderEnv


async def deliver(order: pb.Order, status: int, event_id: str = "") -> bool:
    payload = ship_events.ShipmentStatusChangedEvent(
        shipment="shipments/s1",
        order=order.name,
        order_number=order.order_number,
        direction=ship.SHIPMENT_DIRECTION_FORWARD,
        status=status,
        carrier="Delhivery",
        awb="1234567890123",
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
