"""Zones, methods, carriers and PINs are cached in memory (services/shipping/cache.py):
an admin change is seen at once by the process that made it and, through the version
row, by every other process within `check_seconds`; quotes read no database at all
in between. New shipments go to the booker in memory and are booked without being
read back. Each test runs on SQLite and PostgreSQL (the `shipping` fixture)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from sqlalchemy import event

from cleanse.shipping.v1 import resources_pb2 as pb
from cleanse.shipping.v1 import shipping_admin_service_pb2 as admin_pb2
from mesh.db import Database
from mesh.errors import InvalidArgument
from services.shipping import cache as cache_module
from services.shipping.cache import ConfigCache
from services.shipping.handlers.config import ConfigHandlers
from tests.shipping.test_rates import req
from tests.shipping.test_shipments import deliver, order_shipments, placed_event

STD = pb.METHOD_KIND_STANDARD
ZONE = "cache-mysuru"
METHOD = "cache-mysuru-std"
CARRIER = "cache-courier"


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements `db` sends while the block runs: through SQLAlchemy, and
    straight on the driver (`Database.run` / `run_in` on PostgreSQL, which look their
    statement up with `driver_statement` each time they run one)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(statement)

    def on_driver(statement: Any) -> Any:
        compiled = type(db).driver_statement(db, statement)
        seen.append(compiled.sql)
        return compiled

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    db.driver_statement = on_driver  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del db.driver_statement
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


@asynccontextmanager
async def other_process(shipping, clock: FakeClock) -> AsyncIterator[ConfigHandlers]:
    """A second shipping process's configuration handlers: own engine, own cache."""
    db = Database("shipping", shipping.db.url.render_as_string(hide_password=False))
    try:
        yield ConfigHandlers(db, shipping.wired.config.box, ConfigCache(db, clock=clock))
    finally:
        await db.dispose()


async def ensure_zone(shipping) -> None:
    """Mysuru (570001-570010) as its own zone with one standard method at Rs 30."""
    md = shipping.md()
    try:
        await shipping.admin.GetShippingZone(
            admin_pb2.GetShippingZoneRequest(name=f"zones/{ZONE}"), metadata=md
        )
        return
    except grpc.aio.AioRpcError:
        pass
    await shipping.admin.CreateShippingZone(
        admin_pb2.CreateShippingZoneRequest(
            zone_id=ZONE,
            zone=pb.ShippingZone(
                display_name="Mysuru",
                active=True,
                pincode_ranges=[pb.PincodeRange(start="570001", end="570010")],
            ),
        ),
        metadata=md,
    )
    await shipping.admin.CreateShippingMethod(
        admin_pb2.CreateShippingMethodRequest(
            method_id=METHOD,
            method=pb.ShippingMethod(
                zone=f"zones/{ZONE}",
                kind=STD,
                display_name="Mysuru standard",
                slabs=[pb.WeightSlab(max_weight_grams=1000, rate_minor=3000)],
                estimated_days=2,
                carrier="carriers/manual",
                active=True,
                cod_available=True,
            ),
        ),
        metadata=md,
    )


async def set_rate(shipping, rate: int) -> None:
    await shipping.admin.UpdateShippingMethod(
        admin_pb2.UpdateShippingMethodRequest(
            method=pb.ShippingMethod(
                name=f"methods/{METHOD}",
                slabs=[pb.WeightSlab(max_weight_grams=1000, rate_minor=rate)],
            ),
            update_mask={"paths": ["slabs"]},
        ),
        metadata=shipping.md(),
    )


async def rate_here(shipping, pincode: str = "570001") -> int:
    r = await shipping.internal.QuoteShipping(req(pincode, 400, 1000))
    return r.options[0].rate.amount_minor


async def kinds_here(shipping) -> set[int]:
    return {o.kind for o in (await shipping.internal.QuoteShipping(req("570001", 400, 1))).options}


async def rate_there(other: ConfigHandlers, pincode: str = "570001") -> int:
    return (await other.quote(pincode, 400, 1000, False)).options[0].base_rate


async def test_quotes_read_no_database_once_cached(shipping) -> None:
    await ensure_zone(shipping)
    async with other_process(shipping, FakeClock()) as config:
        await config.quote("570001", 400, 1000, False)  # warm: configuration and PIN
        with statements(config.db) as sql:
            for _ in range(5):
                q = await config.quote("570001", 400, 1000, False)
        assert q.zone_id == ZONE and q.options[0].base_rate in (3000, 3500)
        assert sql == []
        assert (await config.route_carrier("570001", "STANDARD")) == "manual"
        assert sql == []


async def test_method_change_is_seen_here_at_once_and_elsewhere_within_the_check(
    shipping,
) -> None:
    await ensure_zone(shipping)
    await set_rate(shipping, 3000)
    clock = FakeClock()
    async with other_process(shipping, clock) as other:
        assert await rate_here(shipping) == 3000
        assert await rate_there(other) == 3000
        loads = other.cache.loads
        try:
            await set_rate(shipping, 3500)
            assert await rate_here(shipping) == 3500  # the writer's process: at once
            # The other process keeps its copy until its next version check...
            with statements(other.db) as sql:
                assert await rate_there(other) == 3000
            assert sql == [] and other.cache.loads == loads
            # ...which sees the version moved and reloads.
            clock.now += other.cache.check_seconds
            assert await rate_there(other) == 3500
            assert other.cache.loads == loads + 1
            # Unchanged version: a check costs one read and no reload.
            clock.now += other.cache.check_seconds
            with statements(other.db) as sql:
                assert await rate_there(other) == 3500
            queries = [q for q in sql if q not in ("BEGIN", "COMMIT", "ROLLBACK")]
            assert len(queries) == 1 and "shipping_config_version" in queries[0]
            assert other.cache.loads == loads + 1
        finally:
            await set_rate(shipping, 3000)


async def test_zone_and_method_deactivation_and_deletion_invalidate(shipping) -> None:
    await ensure_zone(shipping)
    md = shipping.md()
    clock = FakeClock()
    async with other_process(shipping, clock) as other:
        assert (await other.quote("570001", 400, 1000, False)).zone_id == ZONE
        await shipping.admin.UpdateShippingZone(
            admin_pb2.UpdateShippingZoneRequest(
                zone=pb.ShippingZone(name=f"zones/{ZONE}", active=False),
                update_mask={"paths": ["active"]},
            ),
            metadata=md,
        )
        try:
            here = await shipping.internal.QuoteShipping(req("570001", 400, 1000))
            assert here.zone == "zones/south"  # the state's zone takes over
            clock.now += other.cache.check_seconds
            assert (await other.quote("570001", 400, 1000, False)).zone_id == "south"
        finally:
            await shipping.admin.UpdateShippingZone(
                admin_pb2.UpdateShippingZoneRequest(
                    zone=pb.ShippingZone(name=f"zones/{ZONE}", active=True),
                    update_mask={"paths": ["active"]},
                ),
                metadata=md,
            )
        assert (await shipping.internal.QuoteShipping(req("570001", 400, 1000))).zone == (
            f"zones/{ZONE}"
        )
        # A new method appears in quotes at once; a deleted one disappears.
        express = f"{ZONE}-exp"
        await shipping.admin.CreateShippingMethod(
            admin_pb2.CreateShippingMethodRequest(
                method_id=express,
                method=pb.ShippingMethod(
                    zone=f"zones/{ZONE}",
                    kind=pb.METHOD_KIND_EXPRESS,
                    display_name="Mysuru express",
                    slabs=[pb.WeightSlab(max_weight_grams=1000, rate_minor=9000)],
                    estimated_days=1,
                    carrier="carriers/manual",
                    active=True,
                ),
            ),
            metadata=md,
        )
        assert await kinds_here(shipping) == {STD, pb.METHOD_KIND_EXPRESS}
        await shipping.admin.DeleteShippingMethod(
            admin_pb2.DeleteShippingMethodRequest(name=f"methods/{express}"), metadata=md
        )
        assert await kinds_here(shipping) == {STD}
        clock.now += other.cache.check_seconds
        assert [o.method.id for o in (await other.quote("570001", 400, 1, False)).options] == [
            METHOD
        ]


async def test_pincode_set_delete_and_csv_invalidate(shipping) -> None:
    await ensure_zone(shipping)
    md = shipping.md()
    pin = "570002"
    clock = FakeClock()
    async with other_process(shipping, clock) as other:
        assert (await shipping.internal.QuoteShipping(req(pin, 400, 1000))).serviceable
        assert (await other.quote(pin, 400, 1000, False)).serviceable  # cached: no row
        await shipping.admin.SetPincodeServiceability(
            admin_pb2.SetPincodeServiceabilityRequest(
                serviceability=pb.PincodeServiceability(name=f"pincodes/{pin}", serviceable=False)
            ),
            metadata=md,
        )
        assert not (await shipping.internal.QuoteShipping(req(pin, 400, 1000))).serviceable
        assert (await other.quote(pin, 400, 1000, False)).serviceable  # until its check
        clock.now += other.cache.check_seconds
        assert not (await other.quote(pin, 400, 1000, False)).serviceable
        await shipping.admin.DeletePincodeServiceability(
            admin_pb2.DeletePincodeServiceabilityRequest(name=f"pincodes/{pin}"), metadata=md
        )
        assert (await shipping.internal.QuoteShipping(req(pin, 400, 1000))).serviceable
        # A CSV import: prepaid only, slow.
        csv = f"pincode,serviceable,cod_available,estimated_days\n{pin},yes,no,9\n"
        done = await shipping.admin.ImportPincodeCsv(
            admin_pb2.ImportPincodeCsvRequest(csv=csv.encode()), metadata=md
        )
        assert done.applied
        r = await shipping.internal.QuoteShipping(req(pin, 400, 1000, "cod"))
        assert (r.options[0].cod_available, r.options[0].estimated_days) == (False, 9)
        clock.now += other.cache.check_seconds
        o = (await other.quote(pin, 400, 1000, True)).options[0]
        assert (o.cod_available, o.estimated_days) == (False, 9)
        # A dry run changes nothing, and is no reason to reload.
        loads = shipping.wired.config.cache.loads
        await shipping.admin.ImportPincodeCsv(
            admin_pb2.ImportPincodeCsvRequest(csv=csv.encode(), dry_run=True), metadata=md
        )
        await shipping.internal.QuoteShipping(req(pin, 400, 1000))
        assert shipping.wired.config.cache.loads == loads
        await shipping.admin.DeletePincodeServiceability(
            admin_pb2.DeletePincodeServiceabilityRequest(name=f"pincodes/{pin}"), metadata=md
        )


async def test_carrier_changes_reach_new_shipments(shipping) -> None:
    await ensure_zone(shipping)
    md = shipping.md()
    pin = "570004"
    shipments = shipping.wired.shipments
    try:
        await shipping.admin.GetCarrier(
            admin_pb2.GetCarrierRequest(name=f"carriers/{CARRIER}"), metadata=md
        )
    except grpc.aio.AioRpcError:
        await shipping.admin.CreateCarrier(
            admin_pb2.CreateCarrierRequest(
                carrier_id=CARRIER,
                carrier=pb.Carrier(
                    display_name="Mysuru couriers", kind=pb.CARRIER_KIND_MANUAL, active=True
                ),
            ),
            metadata=md,
        )
    assert (await shipments.carrier_for(pin, "")).id == "manual"  # the zone method's
    await shipping.admin.SetPincodeServiceability(
        admin_pb2.SetPincodeServiceabilityRequest(
            serviceability=pb.PincodeServiceability(
                name=f"pincodes/{pin}", serviceable=True, carrier=f"carriers/{CARRIER}"
            )
        ),
        metadata=md,
    )
    carrier = await shipments.carrier_for(pin, "")
    assert (carrier.id, carrier.display_name) == (CARRIER, "Mysuru couriers")
    await shipping.admin.UpdateCarrier(
        admin_pb2.UpdateCarrierRequest(
            carrier=pb.Carrier(name=f"carriers/{CARRIER}", active=False),
            update_mask={"paths": ["active"]},
        ),
        metadata=md,
    )
    try:
        with pytest.raises(InvalidArgument):
            await shipments.carrier_for(pin, "")
    finally:
        await shipping.admin.UpdateCarrier(
            admin_pb2.UpdateCarrierRequest(
                carrier=pb.Carrier(name=f"carriers/{CARRIER}", active=True),
                update_mask={"paths": ["active"]},
            ),
            metadata=md,
        )
        await shipping.admin.DeletePincodeServiceability(
            admin_pb2.DeletePincodeServiceabilityRequest(name=f"pincodes/{pin}"), metadata=md
        )
    assert (await shipments.carrier_for(pin, "")).id == "manual"


async def test_a_load_overtaken_by_a_change_is_not_kept(shipping, monkeypatch) -> None:
    cache = ConfigCache(shipping.db)
    real = cache_module.load

    async def load_then_change(s, version):
        snap = await real(s, version)
        cache.invalidate()  # an admin change in this process commits meanwhile
        return snap

    monkeypatch.setattr(cache_module, "load", load_then_change)
    await cache.snapshot()
    assert cache._snap is None  # answered that request, not kept for the next
    monkeypatch.setattr(cache_module, "load", real)
    await cache.snapshot()
    assert cache._snap is not None


async def test_new_shipments_are_booked_from_memory(shipping) -> None:
    """order.placed hands the shipments to the booker when its transaction commits;
    booking them reads nothing back; the label is rendered on first download."""
    order_id = secrets.token_hex(6)
    shipments = shipping.wired.shipments
    shipments.wake.clear()
    assert await deliver(placed_event(order_id)) is False
    assert shipments.wake.is_set()
    created = await order_shipments(shipping, order_id)
    assert {s.name.split("/")[1] for s in created} <= set(shipments._queued)
    with statements(shipping.db) as sql:
        assert await shipments.book_queued() >= len(created)
    assert not [q for q in sql if q.lstrip().upper().startswith("SELECT")]
    assert not shipments._queued
    booked = await order_shipments(shipping, order_id)
    assert all(s.awb and s.label_ready for s in booked)
    assert {s.awb for s in booked} <= set(shipping.fake.awbs.values())
    # Nothing left for the sweep: it does not book them again.
    sent = len(shipping.fake.orders)
    await shipments.book_pending()
    assert len(shipping.fake.orders) == sent
    ship = next(s for s in booked if s.cod_amount.amount_minor)
    evs = await shipping.events(ship.name)
    # The creation itself is no event for order or engagement (mesh.events filters):
    # the first one is the AWB's (CREATED -> CREATED, with the tracking URL).
    assert [(e.previous_status, e.status) for e in evs] == [(pb.SHIPMENT_STATUS_CREATED,) * 2]
    assert evs[-1].awb == ship.awb and evs[-1].tracking_url.endswith(ship.awb)
    label = await shipping.admin.GetShipmentLabel(
        admin_pb2.GetShipmentLabelRequest(name=ship.name), metadata=shipping.md()
    )
    again = await shipping.admin.GetShipmentLabel(
        admin_pb2.GetShipmentLabelRequest(name=ship.name), metadata=shipping.md()
    )
    assert label.data.startswith(b"%PDF") and again.data == label.data  # kept
