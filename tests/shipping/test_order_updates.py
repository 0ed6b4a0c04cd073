"""order.updated through the EventSink: an admin's edit of a confirmed order reaches the
shipment made from order.placed. Not booked yet: it carries the new lines, address and
COD amount; booked: unchanged and flagged for manual attention. Idempotent on the
event id, stale revisions ignored, an update before its order.placed retried."""

from __future__ import annotations

import asyncio
import secrets
import threading

import grpc
import pytest

from cleanse.common.v1 import address_pb2, events_pb2, money_pb2
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.shipping.v1 import events_pb2 as ship_events
from cleanse.shipping.v1 import resources_pb2 as pb
from tests.shipping.test_shipments import ADDRESS, deliver, order_shipments
from tests.support.rpc import reason

MUMBAI = address_pb2.PostalAddress(
    recipient_name="Asha Rao",
    phone="+919876543210",
    line1="1 Marine Drive",
    city="Mumbai",
    state_code="MH",
    pincode="400001",
)


def _order_fields(
    order_id: str,
    lines: list[tuple[str, int]],
    address: address_pb2.PostalAddress,
    cod_minor: int,
) -> dict:
    """The fields both events carry, as the order service writes them (no warehouse,
    no weight per line)."""
    return dict(
        order=f"orders/{order_id}",
        order_number=f"CL-2026-{order_id[-6:]}",
        email="asha@example.in",
        pincode=address.pincode,
        state_code=address.state_code,
        city=address.city,
        payment_method="cod",
        item_count=sum(q for _, q in lines),
        total=money_pb2.Money(amount_minor=cod_minor, currency_code="INR"),
        delivery_address=address,
        lines=[
            order_events.OrderPlacedLine(
                variant_id=v, sku=f"SKU-{v}", title=f"Item {v}", quantity=q
            )
            for v, q in lines
        ],
        cod_amount=money_pb2.Money(amount_minor=cod_minor, currency_code="INR"),
        phone=address.phone,
    )


def placed(order_id: str, lines: list[tuple[str, int]], cod_minor: int = 64900) -> events_pb2.Event:
    payload = order_events.OrderPlacedEvent(**_order_fields(order_id, lines, ADDRESS, cod_minor))
    ev = events_pb2.Event(event_id=secrets.token_hex(8), topic="order.placed", source="order")
    ev.payload.Pack(payload)
    return ev


def updated(
    order_id: str,
    revision: int,
    lines: list[tuple[str, int]],
    address: address_pb2.PostalAddress = ADDRESS,
    cod_minor: int = 64900,
) -> events_pb2.Event:
    payload = order_events.OrderUpdatedEvent(
        **_order_fields(order_id, lines, address, cod_minor),
        revision=revision,
        edit=f"orders/{order_id}/edits/e{revision}",
        lines_changed=True,
        address_changed=address is not ADDRESS,
    )
    ev = events_pb2.Event(event_id=secrets.token_hex(8), topic="order.updated", source="order")
    ev.payload.Pack(payload)
    return ev


def contents(ship: pb.Shipment) -> list[tuple[str, int]]:
    return sorted((i.variant_id, i.quantity) for i in ship.items)


async def test_unbooked_shipment_follows_the_edit(shipping) -> None:
    order_id = secrets.token_hex(6)
    assert await deliver(placed(order_id, [("v1", 2)])) is False
    [ship] = await order_shipments(shipping, order_id)
    assert ship.status == pb.SHIPMENT_STATUS_CREATED and not ship.awb
    ev = updated(order_id, 1, [("v1", 1), ("v2", 3)], MUMBAI, cod_minor=99900)
    assert await deliver(ev) is False
    assert await deliver(ev) is True  # redelivered: nothing more
    [got] = await order_shipments(shipping, order_id)
    assert got.name == ship.name and contents(got) == [("v1", 1), ("v2", 3)]
    assert (got.address.city, got.address.pincode) == ("Mumbai", "400001")
    assert got.cod_amount.amount_minor == 99900
    assert got.weight_grams == 4 * shipping.wired.settings.default_unit_weight_grams
    [note] = [h for h in got.history if h.source == "system:order.updated#1"]
    assert note.note.startswith("order edited (revision 1)") and "address" in note.note
    # No status changed: nothing for order and engagement (nor was the creation).
    assert await shipping.events(ship.name) == []
    # The booker books what the shipment is now, not what was handed over at creation.
    shipments = shipping.wired.shipments
    await shipments.book_queued()
    assert not (await order_shipments(shipping, order_id))[0].awb
    await shipments.book_pending()
    [booked] = await order_shipments(shipping, order_id)
    assert booked.awb
    [body] = [b for b in shipping.fake.orders.values() if b["order_id"] == ship.name.split("/")[1]]
    assert body["billing_pincode"] == "400001"
    assert sorted(int(i["units"]) for i in body["order_items"]) == [1, 3]


async def test_older_revision_arriving_late_changes_nothing(shipping) -> None:
    order_id = secrets.token_hex(6)
    await deliver(placed(order_id, [("v1", 2)]))
    await deliver(updated(order_id, 2, [("v1", 5)]))
    assert await deliver(updated(order_id, 1, [("v1", 3)])) is False  # consumed, not applied
    [ship] = await order_shipments(shipping, order_id)
    assert contents(ship) == [("v1", 5)]
    assert [h.source for h in ship.history if h.source.startswith("system:order.updated")] == [
        "system:order.updated#2"
    ]


async def test_booked_shipment_is_flagged_for_manual_attention(shipping) -> None:
    order_id = secrets.token_hex(6)
    await deliver(placed(order_id, [("v1", 2)]))
    await shipping.wired.shipments.book_pending()
    [ship] = await order_shipments(shipping, order_id)
    assert ship.awb
    assert await deliver(updated(order_id, 1, [("v1", 3)], MUMBAI, cod_minor=89900)) is False
    [got] = await order_shipments(shipping, order_id)
    # The carrier has the old parcel: nothing changes here...
    assert contents(got) == [("v1", 2)] and got.address.pincode == "560001"
    assert got.cod_amount.amount_minor == 64900 and got.awb == ship.awb
    # ...and the history says what an admin has to change by hand.
    [flag] = [h for h in got.history if h.source == "system:order.updated#1"]
    assert flag.note.startswith("NEEDS ATTENTION")
    assert "v1 x2 -> v1 x3" in flag.note and "400001" in flag.note
    assert "COD Rs 649.00 -> Rs 899.00" in flag.note
    assert flag.from_status == flag.to_status == got.status


async def test_an_edit_that_changes_nothing_here_is_recorded(shipping) -> None:
    order_id = secrets.token_hex(6)
    await deliver(placed(order_id, [("v1", 2)]))
    await shipping.wired.shipments.book_pending()
    await deliver(updated(order_id, 1, [("v1", 2)]))  # e.g. a price-only change
    [got] = await order_shipments(shipping, order_id)
    [row] = [h for h in got.history if h.source == "system:order.updated#1"]
    assert "no change" in row.note


async def test_update_before_its_order_placed_is_delivered_again(shipping) -> None:
    order_id = secrets.token_hex(6)
    early = updated(order_id, 1, [("v1", 4)])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await deliver(early)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "ORDER_PLACED_NOT_RECEIVED"
    assert await order_shipments(shipping, order_id) == []
    await deliver(placed(order_id, [("v1", 2)]))
    assert await deliver(early) is False  # the relay's next attempt: applied now
    [ship] = await order_shipments(shipping, order_id)
    assert contents(ship) == [("v1", 4)]


def test_view_reads_the_updated_payload() -> None:
    """Every field both OrderUpdatedEvent and the shipping view declare agrees on
    number and type (shipping reads order.updated through the order.placed view)."""
    theirs = order_events.OrderUpdatedEvent.DESCRIPTOR
    ours = ship_events.OrderPlacedShippingView.DESCRIPTOR
    for f in ours.fields:
        other = theirs.fields_by_number.get(f.number)
        assert other is not None, f.name
        assert (other.name, other.type, other.is_repeated) == (f.name, f.type, f.is_repeated)


async def test_edit_landing_while_the_booking_is_in_flight_books_the_new_parcel(
    shipping,
) -> None:
    """The carrier is being called with the shipment as it was when order.updated
    changes it: that booking is cancelled with the carrier and the shipment booked
    again as it is now, so its AWB is always a booking of its current parcel."""
    order_id = secrets.token_hex(6)
    await deliver(placed(order_id, [("v1", 2)]))
    [ship] = await order_shipments(shipping, order_id)
    sid = ship.name.split("/")[1]
    fake = shipping.fake
    fake.waiting.clear()
    fake.gate = threading.Event()
    try:
        booking = asyncio.create_task(shipping.wired.shipments.book(sid))
        assert await asyncio.to_thread(fake.waiting.wait, 10)  # the carrier call is in flight
        ev = updated(order_id, 1, [("v1", 3)], MUMBAI, cod_minor=89900)
        assert await deliver(ev) is False  # applied: the shipment had no AWB yet
        fake.gate.set()
        assert await asyncio.wait_for(booking, 10) is True
    finally:
        fake.gate = None
    [got] = await order_shipments(shipping, order_id)
    by_awb = {fake.awbs[k]: b for k, b in fake.orders.items() if b["order_id"] == sid}
    # The AWB recorded is a booking of the parcel as it is now...
    mine = by_awb[got.awb]
    assert mine["billing_pincode"] == "400001" and mine["billing_city"] == "Mumbai"
    assert [int(i["units"]) for i in mine["order_items"]] == [3]
    assert mine["sub_total"] == 899.0 and mine["payment_method"] == "COD"
    # ...and the booking of the old parcel was cancelled with the carrier.
    [stale] = [awb for awb in by_awb if awb != got.awb]  # two bookings in all
    assert by_awb[stale]["billing_pincode"] == "560001" and stale in fake.cancelled
    assert got.awb not in fake.cancelled
    [note] = [h for h in got.history if h.source == "system:booking"]
    assert note.note.startswith(f"carrier booking AWB {stale} cancelled")
    assert "400001" in note.note and "SKU-v1 x2 -> SKU-v1 x3" in note.note
    assert contents(got) == [("v1", 3)] and got.cod_amount.amount_minor == 89900


async def test_stale_booking_the_carrier_will_not_cancel_needs_attention(shipping) -> None:
    order_id = secrets.token_hex(6)
    await deliver(placed(order_id, [("v1", 2)]))
    [ship] = await order_shipments(shipping, order_id)
    sid = ship.name.split("/")[1]
    fake = shipping.fake
    fake.waiting.clear()
    fake.gate = threading.Event()
    try:
        booking = asyncio.create_task(shipping.wired.shipments.book(sid))
        assert await asyncio.to_thread(fake.waiting.wait, 10)
        await deliver(updated(order_id, 1, [("v1", 1)]))
        fake.refuse_cancel = True
        fake.gate.set()
        assert await asyncio.wait_for(booking, 10) is True
    finally:
        fake.gate = None
        fake.refuse_cancel = False
    [got] = await order_shipments(shipping, order_id)
    [stale] = [
        fake.awbs[k]
        for k, b in fake.orders.items()
        if b["order_id"] == sid and fake.awbs.get(k) != got.awb
    ]
    [flag] = [h for h in got.history if h.source == "system:booking"]
    assert flag.note.startswith(f"NEEDS ATTENTION: carrier booking AWB {stale}")
    assert "cancel it with the carrier by hand" in flag.note
    assert got.awb and got.awb != stale and contents(got) == [("v1", 1)]
