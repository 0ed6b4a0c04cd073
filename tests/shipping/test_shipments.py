"""Shipments end to end inside the service: order.placed through the EventSink, an AWB
from the fake aggregator, the label PDF read back, signed and forged webhooks, return
pickups, admin status updates."""

from __future__ import annotations

import io
import secrets

import grpc
import pytest
from google.api import httpbody_pb2
from pypdf import PdfReader

from cleanse.common.v1 import address_pb2, events_pb2, events_pb2_grpc, money_pb2
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.shipping.v1 import carrier_webhook_service_pb2 as wpb
from cleanse.shipping.v1 import events_pb2 as ship_events
from cleanse.shipping.v1 import resources_pb2 as pb
from cleanse.shipping.v1 import shipping_admin_service_pb2 as admin_pb2
from cleanse.shipping.v1 import shipping_internal_service_pb2 as ipb
from mesh import client
from tests.support.rpc import reason

ADDRESS = address_pb2.PostalAddress(
    recipient_name="Asha Rao",
    phone="+919876543210",
    line1="12 MG Road",
    city="Bengaluru",
    state_code="KA",
    pincode="560001",
)


def placed_event(order_id: str, *, cod: bool = True) -> events_pb2.Event:
    """An order.placed event as the order service writes it, with the fields shipping
    asks for (11-15) set through the view's field numbers."""
    view = ship_events.OrderPlacedShippingView(
        order=f"orders/{order_id}",
        order_number=f"CLN-{order_id[-4:]}",
        email="asha@example.in",
        pincode="560001",
        state_code="KA",
        city="Bengaluru",
        payment_method="cod" if cod else "razorpay",
        delivery_address=ADDRESS,
        lines=[
            ship_events.OrderPlacedLine(
                variant_id="v1",
                sku="NEEM-100",
                title="Neem soap",
                quantity=2,
                unit_weight_grams=120,
                warehouse="warehouses/blr-1",
            ),
            ship_events.OrderPlacedLine(
                variant_id="v2",
                sku="OIL-200",
                title="Hair oil",
                quantity=1,
                unit_weight_grams=300,
                warehouse="warehouses/bhw-1",
            ),
        ],
        cod_amount=money_pb2.Money(amount_minor=64900, currency_code="INR") if cod else None,
    )
    payload = order_events.OrderPlacedEvent.FromString(view.SerializeToString())
    ev = events_pb2.Event(event_id=secrets.token_hex(8), topic="order.placed", source="order")
    ev.payload.Pack(payload)
    return ev


async def deliver(ev: events_pb2.Event) -> bool:
    sink = client.stub("shipping", events_pb2_grpc.EventSinkServiceStub)
    return (await sink.Deliver(events_pb2.DeliverRequest(event=ev))).duplicate


async def order_shipments(shipping, order_id: str) -> list[pb.Shipment]:
    resp = await shipping.internal.ListOrderShipments(
        ipb.ListOrderShipmentsRequest(order=f"orders/{order_id}")
    )
    return list(resp.shipments)


async def webhook(shipping, body: bytes, headers: dict[str, str], carrier: str = "shipfast"):
    return await shipping.webhooks.ReceiveCarrierWebhook(
        wpb.ReceiveCarrierWebhookRequest(
            carrier_id=carrier,
            body=httpbody_pb2.HttpBody(content_type="application/json", data=body),
        ),
        metadata=tuple(headers.items()),
    )


async def booked_forward(shipping) -> pb.Shipment:
    order_id = secrets.token_hex(6)
    assert await deliver(placed_event(order_id)) is False
    await shipping.wired.shipments.book_pending()
    ships = await order_shipments(shipping, order_id)
    return next(s for s in ships if s.cod_amount.amount_minor)  # the parcel collecting cash


async def test_order_placed_creates_one_shipment_per_warehouse_exactly_once(shipping) -> None:
    order_id = secrets.token_hex(6)
    ev = placed_event(order_id)
    assert await deliver(ev) is False
    assert await deliver(ev) is True  # redelivery: nothing more
    ships = await order_shipments(shipping, order_id)
    assert sorted(s.warehouse for s in ships) == ["warehouses/bhw-1", "warehouses/blr-1"]
    blr = next(s for s in ships if s.warehouse == "warehouses/blr-1")
    assert (blr.status, blr.carrier, blr.weight_grams) == (
        pb.SHIPMENT_STATUS_CREATED,
        "carriers/shipfast",
        240,
    )
    assert blr.address.line1 == "12 MG Road" and blr.items[0].sku == "NEEM-100"
    # COD is collected once, with the first parcel.
    assert sorted(s.cod_amount.amount_minor for s in ships) == [0, 64900]
    # Another event id for the same order (a producer retry) still makes no duplicate.
    again = placed_event(order_id)
    assert await deliver(again) is False
    assert len(await order_shipments(shipping, order_id)) == 2
    # A forward shipment's creation is no news for order or engagement: the outbox
    # writes it for nobody (mesh.events filters), so no relay work per checkout.
    assert await shipping.events(blr.name) == []


async def test_awb_from_fake_carrier_and_label_pdf(shipping) -> None:
    ship = await booked_forward(shipping)
    assert ship.awb.startswith("SF") and ship.awb in shipping.fake.awbs.values()
    assert ship.tracking_url == f"https://track.shipfast.example/awb/{ship.awb}"
    assert ship.label_ready
    sent = next(
        o for o in shipping.fake.orders.values() if o["order_id"] == ship.name.split("/")[1]
    )
    assert (sent["billing_pincode"], sent["payment_method"]) == ("560001", "COD")
    label = await shipping.admin.GetShipmentLabel(
        admin_pb2.GetShipmentLabelRequest(name=ship.name), metadata=shipping.md()
    )
    assert label.content_type == "application/pdf"
    text = PdfReader(io.BytesIO(label.data)).pages[0].extract_text()
    assert ship.awb in text and "12 MG Road" in text and "560001" in text
    assert "Asha Rao" in text and "COLLECT CASH: Rs. 649.00" in text
    # The "AWB assigned" event carries the tracking URL for notifications.
    assert (await shipping.events(ship.name))[-1].tracking_url == ship.tracking_url


async def test_signed_webhook_advances_and_is_deduplicated(shipping) -> None:
    ship = await booked_forward(shipping)
    before = len(await shipping.events(ship.name))
    body, headers = shipping.fake.webhook(ship.awb, "PICKED UP", event_id="evt-" + ship.awb)
    await webhook(shipping, body, headers)
    await webhook(shipping, body, headers)  # the carrier retries: applied once
    got = await shipping.admin.GetShipment(
        admin_pb2.GetShipmentRequest(name=ship.name), metadata=shipping.md()
    )
    assert got.status == pb.SHIPMENT_STATUS_PICKED_UP
    assert [h.to_status for h in got.history].count(pb.SHIPMENT_STATUS_PICKED_UP) == 1
    evs = await shipping.events(ship.name)
    assert len(evs) == before + 1
    last = evs[-1]
    assert (last.status, last.previous_status, last.order) == (
        pb.SHIPMENT_STATUS_PICKED_UP,
        pb.SHIPMENT_STATUS_CREATED,
        got.order,
    )
    assert last.tracking_url.endswith(ship.awb)
    # An out-of-order scan (back to CREATED... here: DELIVERED is fine, then IN TRANSIT
    # late) is acknowledged and ignored.
    for status in ("IN TRANSIT", "OUT FOR DELIVERY", "DELIVERED", "IN TRANSIT"):
        await webhook(shipping, *shipping.fake.webhook(ship.awb, status))
    got = await shipping.admin.GetShipment(
        admin_pb2.GetShipmentRequest(name=ship.name), metadata=shipping.md()
    )
    assert got.status == pb.SHIPMENT_STATUS_DELIVERED


async def test_forged_webhook_is_rejected_and_changes_nothing(shipping) -> None:
    ship = await booked_forward(shipping)
    before = len(await shipping.events(ship.name))
    body, headers = shipping.fake.webhook(ship.awb, "DELIVERED", secret="not-the-secret")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await webhook(shipping, body, headers)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason(e.value) == "WEBHOOK_SIGNATURE_INVALID"
    # A genuine body with a tampered byte, and no signature at all.
    good_body, good_headers = shipping.fake.webhook(ship.awb, "DELIVERED")
    for b, h in (
        (good_body.replace(b"DELIVERED", b"DELIVERES"), good_headers),
        (good_body, {"x-carrier-event-id": "x"}),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await webhook(shipping, b, h)
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    got = await shipping.admin.GetShipment(
        admin_pb2.GetShipmentRequest(name=ship.name), metadata=shipping.md()
    )
    assert got.status == pb.SHIPMENT_STATUS_CREATED
    assert len(await shipping.events(ship.name)) == before


async def test_admin_manual_shipment_status_updates_and_illegal_moves(shipping) -> None:
    md = shipping.md()
    req = admin_pb2.CreateShipmentRequest(
        request_id=secrets.token_hex(6),
        order="orders/manual-1",
        order_number="CLN-M1",
        warehouse="warehouses/ggn-1",
        carrier="carriers/manual",
        address=ADDRESS,
        items=[
            admin_pb2.CreateShipmentItem(
                variant_id="v9", sku="TEA", title="Tulsi tea", quantity=1, unit_weight_grams=200
            )
        ],
    )
    ship = await shipping.admin.CreateShipment(req, metadata=md)
    assert await shipping.admin.CreateShipment(req, metadata=md) == ship  # idempotent
    assert not ship.awb and not ship.label_ready
    with pytest.raises(grpc.aio.AioRpcError) as e:  # no AWB yet
        await shipping.admin.UpdateShipmentStatus(
            admin_pb2.UpdateShipmentStatusRequest(
                name=ship.name, status=pb.SHIPMENT_STATUS_PICKED_UP
            ),
            metadata=md,
        )
    assert reason(e.value) == "AWB_REQUIRED"
    awb = "DTDC" + secrets.token_hex(4).upper()
    ship = await shipping.admin.AssignAwb(
        admin_pb2.AssignAwbRequest(name=ship.name, awb=awb), metadata=md
    )
    assert ship.awb == awb and ship.label_ready
    up = await shipping.admin.UpdateShipmentStatus(
        admin_pb2.UpdateShipmentStatusRequest(
            name=ship.name, status=pb.SHIPMENT_STATUS_PICKED_UP, note="handed over"
        ),
        metadata=md,
    )
    assert up.status == pb.SHIPMENT_STATUS_PICKED_UP
    assert up.history[-1].source == "admin:adminUsers/a1"
    with pytest.raises(grpc.aio.AioRpcError) as e:  # PICKED_UP -> CREATED is illegal
        await shipping.admin.UpdateShipmentStatus(
            admin_pb2.UpdateShipmentStatusRequest(
                name=ship.name, status=pb.SHIPMENT_STATUS_CANCELLED
            ),
            metadata=md,
        )
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(e.value) == "ILLEGAL_STATUS_TRANSITION"
    evs = await shipping.events(ship.name)  # the creation is written for nobody
    assert [e.status for e in evs] == [pb.SHIPMENT_STATUS_PICKED_UP]


async def test_return_pickup_is_idempotent_and_tracked(shipping) -> None:
    ship = await booked_forward(shipping)
    rid = secrets.token_hex(6)
    req = ipb.CreateReturnPickupRequest(
        request_id=rid,
        order=ship.order,
        order_number=ship.order_number,
        return_request=f"{ship.order}/returns/r1",
        pickup_address=ADDRESS,
        items=[
            pb.ShipmentItem(
                variant_id="v1",
                sku="NEEM-100",
                title="Neem soap",
                quantity=1,
                unit_weight_grams=120,
            )
        ],
    )
    first = await shipping.internal.CreateReturnPickup(req)
    again = await shipping.internal.CreateReturnPickup(req)
    assert first.name == again.name
    assert (first.direction, first.warehouse) == (pb.SHIPMENT_DIRECTION_RETURN, ship.warehouse)
    other = ipb.CreateReturnPickupRequest()
    other.CopyFrom(req)
    other.items[0].quantity = 2
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await shipping.internal.CreateReturnPickup(other)
    assert reason(e.value) == "IDEMPOTENCY_KEY_REUSED"
    await shipping.wired.shipments.book_pending()
    booked = await shipping.admin.GetShipment(
        admin_pb2.GetShipmentRequest(name=first.name), metadata=shipping.md()
    )
    assert booked.awb
    assert any(o["is_return"] for o in shipping.fake.orders.values())
    await webhook(shipping, *shipping.fake.webhook(booked.awb, "PICKED UP"))
    evs = await shipping.events(first.name)
    # A return pickup's creation does go out (engagement: "pickup scheduled").
    assert (evs[0].previous_status, evs[0].status) == (0, pb.SHIPMENT_STATUS_CREATED)
    assert evs[-1].status == pb.SHIPMENT_STATUS_PICKED_UP
    assert evs[-1].direction == pb.SHIPMENT_DIRECTION_RETURN
    assert evs[-1].return_request == f"{ship.order}/returns/r1"


def test_view_matches_the_order_payload() -> None:
    """Every field both OrderPlacedEvent and the shipping view declare agrees on number
    and type; a field number the order service uses for something else fails here."""
    theirs = order_events.OrderPlacedEvent.DESCRIPTOR
    ours = ship_events.OrderPlacedShippingView.DESCRIPTOR
    for f in ours.fields:
        other = theirs.fields_by_number.get(f.number)
        if other is None:
            continue
        assert (other.name, other.type, other.is_repeated) == (f.name, f.type, f.is_repeated), (
            f.name
        )
        if f.message_type is not None:
            assert other.message_type.full_name in (
                f.message_type.full_name,
                "cleanse.order.v1.OrderPlacedLine",
            )
