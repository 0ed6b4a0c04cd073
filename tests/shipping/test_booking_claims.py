"""One carrier booking in flight per shipment, across replicas.

Every replica books the shipments its own order.placed deliveries created (handed
over in memory) and sweeps the table for the rest, so another replica's sweep (or
an admin's "book now") finds a shipment whose booking is in flight: it has no AWB
until the carrier answers. A booker claims the shipment first (one conditional
UPDATE: a claim token and a lease); a shipment claimed by a live lease is left alone,
so the carrier is called once; a claim whose lease lapsed (its booker died) is taken
over by the sweep."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import select, update

from mesh.db import Database, utcnow
from services.shipping.cache import ConfigCache
from services.shipping.carriers.aggregator import AggregatorCarrier
from services.shipping.carriers.base import ManualCarrier
from services.shipping.handlers.shipments import ShipmentHandlers
from services.shipping.models import Shipment
from tests.shipping.test_config_cache import statements
from tests.shipping.test_order_updates import placed
from tests.shipping.test_shipments import deliver, order_shipments


@asynccontextmanager
async def replica(shipping) -> AsyncIterator[ShipmentHandlers]:
    """Another shipping replica's shipment handlers: own engine, own carrier client,
    the same database."""
    db = Database("shipping", shipping.db.url.render_as_string(hide_password=False))
    mine = shipping.wired.shipments
    carrier = AggregatorCarrier(shipping.wired.settings.aggregator)
    try:
        yield ShipmentHandlers(
            db,
            mine.outbox,
            mine.box,
            {"MANUAL": ManualCarrier(), "AGGREGATOR": carrier},
            mine.warehouses,
            mine.default_carrier,
            mine.route,
            ConfigCache(db),
        )
    finally:
        await carrier.aclose()
        await db.dispose()


async def until(done: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until `done()` holds, at most `seconds`."""
    for _ in range(int(seconds / 0.02)):
        if done():
            return
        await asyncio.sleep(0.02)


async def new_shipment(shipping) -> str:
    order_id = secrets.token_hex(6)
    assert await deliver(placed(order_id, [("v1", 2)])) is False
    [ship] = await order_shipments(shipping, order_id)
    return ship.name.split("/")[1]


async def test_another_replicas_sweep_leaves_a_booking_in_flight_alone(shipping) -> None:
    fake, mine = shipping.fake, shipping.wired.shipments
    sid = await new_shipment(shipping)
    assert sid in mine._queued  # this replica books it from memory
    fake.waiting.clear()
    fake.gated, fake.gate = {sid}, threading.Event()
    try:
        async with replica(shipping) as other:
            first = asyncio.create_task(mine.book_queued())
            assert await asyncio.to_thread(fake.waiting.wait, 10)  # the carrier call is in flight
            # The other replica's sweep finds the shipment without an AWB meanwhile.
            second = asyncio.create_task(other.book_pending())
            await until(lambda: second.done() or fake.started.count(sid) > 1)
            fake.gate.set()
            await asyncio.wait_for(asyncio.gather(first, second), 30)
    finally:
        fake.gate, fake.gated = None, None
    assert fake.started.count(sid) == 1  # one booking call, not two
    [got] = [
        s
        for s in await shipping.wired.shipments.for_order(f"orders/{await order_of(shipping, sid)}")
    ]
    assert got.shipment.awb and got.shipment.awb not in fake.cancelled
    assert not [h for h in got.history if h.source == "system:booking"]  # nothing cancelled
    assert got.shipment.booking_claim is None  # the booking let go of its claim


async def order_of(shipping, sid: str) -> str:
    async with shipping.db.session() as s:
        return str(await s.scalar(select(Shipment.order_id).where(Shipment.id == sid)))


async def test_an_admins_book_now_leaves_a_booking_in_flight_alone(shipping) -> None:
    fake, mine = shipping.fake, shipping.wired.shipments
    sid = await new_shipment(shipping)
    fake.waiting.clear()
    fake.gated, fake.gate = {sid}, threading.Event()
    try:
        first = asyncio.create_task(mine.book_queued())
        assert await asyncio.to_thread(fake.waiting.wait, 10)
        second = asyncio.create_task(mine.book(sid))  # AssignAwb without an AWB
        await until(lambda: second.done() or fake.started.count(sid) > 1)
        fake.gate.set()
        assert await asyncio.wait_for(first, 30) == 1
        assert await asyncio.wait_for(second, 30) is False  # not booked by this call
    finally:
        fake.gate, fake.gated = None, None
    assert fake.started.count(sid) == 1


async def test_a_claim_whose_lease_lapsed_is_booked_by_the_sweep(shipping) -> None:
    fake, mine = shipping.fake, shipping.wired.shipments
    sid = await new_shipment(shipping)
    mine.forget_booking(sid)  # the replica that claimed it died before booking it

    async def claim(lease: timedelta) -> None:
        async with shipping.db.transaction() as s:
            await s.execute(
                update(Shipment)
                .where(Shipment.id == sid)
                .values(booking_claim="dead-replica", booking_lease_until=utcnow() + lease)
            )

    await claim(timedelta(seconds=60))
    async with replica(shipping) as other:
        await other.book_pending()
        assert sid not in fake.started  # its lease holds: left alone
        await claim(timedelta(seconds=-1))
        await other.book_pending()
    assert fake.started.count(sid) == 1
    async with shipping.db.session() as s:
        row = await s.get(Shipment, sid)
        assert row is not None and row.awb and row.booking_claim is None


async def test_a_booking_from_memory_claims_with_one_statement(shipping) -> None:
    """Booking is on every checkout's path: the claim is one UPDATE (it also answers
    the shipment's version, so a job handed over before an edit is not sent), then
    the AWB's conditional UPDATE and its event, as before."""
    mine = shipping.wired.shipments
    await mine.book_queued()
    sid = await new_shipment(shipping)
    assert list(mine._queued) == [sid]
    on_driver = shipping.db.driver_round_trips
    with statements(shipping.db) as sql:
        assert await mine.book_queued() == 1
    sent = [q.lstrip().split()[0].upper() for q in sql]
    sent = [q for q in sent if q not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert sent == ["UPDATE", "UPDATE", "INSERT"], sent
    if shipping.db.dialect == "postgresql":  # the claim and the AWB: straight on asyncpg
        assert shipping.db.driver_round_trips >= on_driver + 2
