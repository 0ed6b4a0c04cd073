"""Producer-side subscription filters (mesh.events.Only), applied by Outbox.add, on
SQLite and PostgreSQL: a subscriber whose filter does not want an event gets no
outbox row (so no relay claim, no Deliver call); a filter that cannot tell is loud.
The filters in SUBSCRIBERS are checked against the consumers' own checks: a filter
may let through more than its consumer acts on, never less."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import MetaData, select

from cleanse.inventory.v1 import events_pb2 as inventory_events
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.shipping.v1 import events_pb2 as shipping_events
from cleanse.shipping.v1 import resources_pb2 as shipping_resources
from mesh.db import Database
from mesh.events import (
    SUBSCRIBERS,
    EventFilterError,
    Only,
    recipients,
    subscribers,
)
from mesh.outbox import Outbox, outbox_table
from tests.conftest import open_database

metadata = MetaData()
OUTBOX = outbox_table(metadata)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(database_url, "order", metadata) as database:
        yield database


async def written(db: Database, outbox: Outbox, topic: str, payload: Message) -> list[str]:
    """Add the event in a transaction; the subscribers its rows were written for."""
    async with db.transaction() as s:
        ev = await outbox.add(s, topic, payload)
    async with db.session() as s:
        rows = await s.execute(select(OUTBOX.c.subscriber).where(OUTBOX.c.event_id == ev.event_id))
        return sorted(r[0] for r in rows)


def placed(customer: str = "") -> order_events.OrderPlacedEvent:
    return order_events.OrderPlacedEvent(
        order="orders/o1", order_number="CL-1", customer=customer, email="a@example.com"
    )


async def test_guest_order_placed_skips_settings(db: Database) -> None:
    outbox = Outbox(OUTBOX, "order", db)
    assert await written(db, outbox, "order.placed", placed()) == ["engagement", "shipping"]


async def test_customer_order_placed_reaches_all_three(db: Database) -> None:
    outbox = Outbox(OUTBOX, "order", db)
    got = await written(db, outbox, "order.placed", placed("users/u1"))
    assert got == ["engagement", "settings", "shipping"]


async def test_refunds_follow_the_same_rule(db: Database) -> None:
    outbox = Outbox(OUTBOX, "order", db)
    guest = order_events.OrderRefundedEvent(order="orders/o1")
    customer = order_events.OrderRefundedEvent(order="orders/o1", customer="users/u1")
    assert await written(db, outbox, "order.refunded", guest) == ["engagement"]
    assert await written(db, outbox, "order.refunded", customer) == ["engagement", "settings"]


async def test_an_event_nobody_wants_writes_nothing(db: Database) -> None:
    outbox = Outbox(OUTBOX, "shipping", db)
    created = shipping_events.ShipmentStatusChangedEvent(
        shipment="shipments/s1",
        direction=shipping_resources.SHIPMENT_DIRECTION_FORWARD,
        status=shipping_resources.SHIPMENT_STATUS_CREATED,
    )
    assert await written(db, outbox, "shipment.status_changed", created) == []
    outbox.wake.clear()
    picked = shipping_events.ShipmentStatusChangedEvent(
        shipment="shipments/s1",
        direction=shipping_resources.SHIPMENT_DIRECTION_FORWARD,
        previous_status=shipping_resources.SHIPMENT_STATUS_CREATED,
        status=shipping_resources.SHIPMENT_STATUS_PICKED_UP,
    )
    assert await written(db, outbox, "shipment.status_changed", picked) == [
        "engagement",
        "order",
    ]
    assert outbox.wake.is_set()  # the relay is woken for the rows written
    pickup = shipping_events.ShipmentStatusChangedEvent(
        shipment="shipments/s2",
        direction=shipping_resources.SHIPMENT_DIRECTION_RETURN,
        status=shipping_resources.SHIPMENT_STATUS_CREATED,
    )
    assert await written(db, outbox, "shipment.status_changed", pickup) == [
        "engagement",
        "order",
    ]


def _boom(_payload: Any) -> bool:
    raise AttributeError("no such field")


LOUD = {
    "testing.wrong_type": (
        Only("settings", order_events.OrderPlacedEvent, lambda p: bool(p.customer), "test"),
        "engagement",
    ),
    "testing.raises": (Only("settings", order_events.OrderPlacedEvent, _boom, "test"),),
    "testing.not_bool": (
        Only("settings", order_events.OrderPlacedEvent, lambda p: p.customer, "test"),
    ),
}


@pytest.mark.parametrize(
    ("topic", "payload", "message"),
    [
        ("testing.wrong_type", inventory_events.LowStockEvent(), "reads cleanse.order"),
        ("testing.raises", placed("users/u1"), "AttributeError: no such field"),
        ("testing.not_bool", placed("users/u1"), "not a bool"),
    ],
)
async def test_a_filter_that_cannot_tell_fails_the_transaction(
    db: Database, topic: str, payload: Message, message: str
) -> None:
    outbox = Outbox(OUTBOX, "order", db, topics=LOUD)
    with pytest.raises(EventFilterError, match=message):
        async with db.transaction() as s:
            await outbox.add(s, topic, payload)
    async with db.session() as s:
        assert (await s.execute(select(OUTBOX.c.id))).first() is None  # nothing half-written


def test_subscribers_still_names_every_subscriber() -> None:
    assert subscribers("order.placed") == ("settings", "engagement", "shipping")
    assert subscribers("shipment.status_changed") == ("order", "engagement")
    with pytest.raises(KeyError, match="unknown event topic"):
        recipients("testing.nobody", placed())


def test_every_filter_names_its_payload_type() -> None:
    for topic, subs in SUBSCRIBERS.items():
        for sub in subs:
            if isinstance(sub, Only):
                assert sub.why, topic
                assert issubclass(sub.payload_type, Message), topic


# --- the filters keep every event their consumer acts on ---------------------------


def _shipment_events() -> list[shipping_events.ShipmentStatusChangedEvent]:
    statuses = shipping_resources.ShipmentStatus.values()
    directions = shipping_resources.ShipmentDirection.values()
    return [
        shipping_events.ShipmentStatusChangedEvent(
            shipment="shipments/s1",
            order="orders/o1",
            direction=d,
            previous_status=prev,
            status=st,
            email="a@example.com",
        )
        for d, prev, st in itertools.product(directions, statuses, statuses)
    ]


def test_shipment_filters_keep_what_order_and_engagement_act_on() -> None:
    from services.engagement.sink import shipment_notice
    from services.order.handlers.shipments import shipment_event_applies

    consumers = {
        "order": shipment_event_applies,
        "engagement": lambda p: shipment_notice(p) is not None,
    }
    kept = dropped = 0
    for p in _shipment_events():
        got = recipients("shipment.status_changed", p)
        for service, acts in consumers.items():
            if acts(p):
                assert service in got, (service, p)
            kept += service in got
            dropped += service not in got
    assert kept and dropped  # the filter does drop something


def test_settings_filters_keep_every_customer_event() -> None:
    from services.settings.app import placed_facts, refunded_facts

    for customer in ("", "users/", "users/u1"):
        p = placed(customer)
        assert ("settings" in recipients("order.placed", p)) >= bool(placed_facts(p).user_id)
        r = order_events.OrderRefundedEvent(customer=customer)
        assert ("settings" in recipients("order.refunded", r)) >= bool(refunded_facts(r).user_id)
