"""The order.placed consumer's short cut on PostgreSQL (ShippingEventSink,
ShipmentHandlers.create_for_event): the processed mark and every shipment in ONE
autocommit statement, with the same outcome as the transaction it replaces:
exactly once per event and per warehouse, also under concurrent deliveries and a
request id taken while the statement runs; the usual way whenever it does not fit."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from sqlalchemy import func, select

from cleanse.order.v1 import events_pb2 as order_events
from mesh.events import SUBSCRIBERS
from services.shipping.handlers.orders import SOURCE
from services.shipping.models import OUTBOX, PROCESSED
from tests.shipping.test_config_cache import statements
from tests.shipping.test_shipments import deliver, order_shipments, placed_event

# The one-statement path is PostgreSQL's (SQLite takes the transaction, which the
# rest of tests/shipping covers on both): these run on PostgreSQL only.
POSTGRES_ONLY = pytest.mark.parametrize("shipping_database_url", ["postgres"], indirect=True)


async def processed(shipping, event_id: str) -> int:
    async with shipping.db.session() as s:
        return int(
            await s.scalar(
                select(func.count()).select_from(PROCESSED).where(PROCESSED.c.event_id == event_id)
            )
            or 0
        )


async def creation_rows(shipping, order_id: str) -> int:
    async with shipping.db.session() as s:
        rows = await s.execute(
            select(OUTBOX.c.event).where(OUTBOX.c.topic == "shipment.status_changed")
        )
        return sum(f"orders/{order_id}".encode() in data for (data,) in rows.all())


@POSTGRES_ONLY
async def test_order_placed_is_one_statement(shipping) -> None:
    assert await deliver(placed_event(secrets.token_hex(6))) is False  # the cache loaded
    order_id = secrets.token_hex(6)
    ev = placed_event(order_id)
    on_driver = shipping.db.driver_round_trips
    with statements(shipping.db) as sql:
        assert await deliver(ev) is False
    assert len(sql) == 1 and sql[0].lstrip().upper().startswith("WITH")
    assert shipping.db.driver_round_trips == on_driver + 1  # straight on asyncpg
    assert await processed(shipping, ev.event_id) == 1
    ships = await order_shipments(shipping, order_id)
    assert sorted(s.warehouse for s in ships) == ["warehouses/bhw-1", "warehouses/blr-1"]
    assert all(len(s.items) == 1 and len(s.history) == 1 for s in ships)
    assert {s.history[0].source for s in ships} == {SOURCE}
    assert sorted(s.cod_amount.amount_minor for s in ships) == [0, 64900]
    # Nobody subscribes to a forward shipment's creation: no outbox rows.
    assert await creation_rows(shipping, order_id) == 0
    with statements(shipping.db) as sql:
        assert await deliver(ev) is True  # redelivered: the same one statement, nothing made
    assert len(sql) == 1
    assert len(await order_shipments(shipping, order_id)) == 2


async def test_concurrent_deliveries_make_the_shipments_once(shipping) -> None:
    order_id = secrets.token_hex(6)
    ev = placed_event(order_id)
    results = await asyncio.gather(*(deliver(ev) for _ in range(5)))
    assert sorted(results) == [False, True, True, True, True]
    assert len(await order_shipments(shipping, order_id)) == 2
    assert await processed(shipping, ev.event_id) == 1


@POSTGRES_ONLY
async def test_a_request_id_taken_meanwhile_goes_the_usual_way(shipping) -> None:
    """Another delivery (another event id, same order) holds the blr-1 shipment,
    uncommitted, while this one runs: its statement waits on the unique key, fails,
    writes nothing, and the transaction path finds the shipment made by the other."""
    order_id = secrets.token_hex(6)
    ev = placed_event(order_id)
    payload = order_events.OrderPlacedEvent()
    ev.payload.Unpack(payload)
    news = shipping.wired.sink.orders.plan(payload)
    blr = next(n for n in news if n.warehouse_id == "blr-1")
    shipments = shipping.wired.shipments
    async with shipping.db.transaction() as s:
        other = await shipments.create_in(s, blr, "test:other")
        pending = asyncio.create_task(deliver(ev))
        await asyncio.sleep(0.3)
        assert not pending.done()  # waiting on the unique key of the request id
    assert await pending is False
    ships = await order_shipments(shipping, order_id)
    assert len(ships) == 2 and f"shipments/{other}" in {s.name for s in ships}
    assert await processed(shipping, ev.event_id) == 1


async def test_a_creation_some_subscriber_wants_is_written_with_it(
    shipping, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a subscriber to want every creation, the events go to the outbox in the
    shipments' transaction (the short cut writes no outbox rows, so it steps aside)."""
    table = dict(SUBSCRIBERS)
    table["shipment.status_changed"] = ("order",)
    monkeypatch.setattr(shipping.wired.outbox, "_topics", table)
    order_id = secrets.token_hex(6)
    assert await deliver(placed_event(order_id)) is False
    assert len(await order_shipments(shipping, order_id)) == 2
    assert await creation_rows(shipping, order_id) == 2
