"""The checkout path's shortcuts say what the general path says (SQLite and PostgreSQL).

- ReserveStock on PostgreSQL picks the one warehouse that ships everything in SQL
  (repository.PG_RESERVE_BEST): it must be the one `allocation.allocate` picks, ties
  by warehouse id in code-point order whatever the database's collation;
- the statements run straight on the driver (Database.fetch, PostgreSQL): a
  violated constraint of inventory's surfaces as SQLAlchemy's IntegrityError, as the
  handlers expect (the pool's side: tests/mesh/test_db_fetch.py);
- two expiry sweepers at once (two replicas) give every lapsed hold back once;
"""

from __future__ import annotations

import asyncio
import random
import secrets

import grpc
import pytest
from sqlalchemy.exc import IntegrityError

from cleanse.inventory.v1 import inventory_admin_service_pb2 as admin_pb2
from cleanse.inventory.v1 import reservation_service_pb2 as res_pb2
from cleanse.inventory.v1 import resources_pb2
from services.inventory.domain import allocation
from services.inventory.handlers.reservations import ReservationHandlers
from tests.inventory.conftest import Inventory, address
from tests.support.rpc import reason

State = resources_pb2.ReservationState

# (suffix, pincode, state): two warehouses tie on distance and state wherever they
# tie, so the id decides: "<tag>-z" sorts before "<tag>a" by code point ('-' < 'a'),
# after it under a locale collation that skips punctuation.
SITES = (
    ("-z", "560099", "KA"),
    ("a", "560099", "KA"),
    ("-b", "562001", "KA"),
    ("m", "421302", "MH"),
    ("-n", "400001", "MH"),
    ("g", "122004", "HR"),
)
DELIVERIES = (
    ("560034", "KA"),
    ("560034", ""),
    ("562100", "KA"),
    ("421001", "MH"),
    ("400070", "MH"),
    ("122018", "HR"),
    ("110001", "DL"),
    ("700001", "MH"),
    ("700001", "HR"),
    ("560034", "MH"),
    ("425000", "MH"),
    ("130000", "MH"),
    ("", "KA"),
    ("", ""),
)


async def _warehouse(inv: Inventory, wid: str, pincode: str, state: str) -> str:
    await inv.admin.CreateWarehouse(
        admin_pb2.CreateWarehouseRequest(
            warehouse_id=wid,
            warehouse=resources_pb2.Warehouse(
                display_name=f"Test {wid}", address=address(pincode, state)
            ),
        ),
        metadata=inv.md(),
    )
    return wid


async def test_one_statement_reserve_picks_the_warehouse_allocation_picks(
    inventory: Inventory,
) -> None:
    tag = f"t{secrets.token_hex(3)}"
    sites = [
        allocation.Site(await _warehouse(inventory, f"{tag}{suffix}", pin, st), pin, st)
        for suffix, pin, st in SITES
    ]
    rng = random.Random(7)
    # First every delivery with stock everywhere (the ranking alone decides), then
    # random stock (some warehouses short: the next best, or a split).
    for trial in range(len(DELIVERIES) + 16):
        full = trial < len(DELIVERIES)
        a, b = inventory.variant(), inventory.variant()
        supplies = []
        for site in sites:
            for vid in (a, b):
                on_hand = 5 if full else rng.choice((0, 1, 3, 5, 5))
                await inventory.stock(f"warehouses/{site.warehouse_id}", vid, on_hand)
                supplies.append(allocation.Supply(site.warehouse_id, vid, on_hand, 0))
        demand = {a: rng.randint(1, 3), b: rng.randint(1, 3)}
        pincode, state = DELIVERIES[trial % len(DELIVERIES)]
        try:
            expected = allocation.allocate(demand, supplies, sites, pincode, state)
        except allocation.OutOfStock:
            expected = None
        lines = sorted(demand.items())
        kw = {"delivery_pincode": pincode, "delivery_state_code": state}
        if expected is None:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await inventory.reserve(lines, **kw)
            assert reason(err.value) == "OUT_OF_STOCK"
            continue
        got = await inventory.reserve(lines, **kw)
        assert sorted(
            (ln.variant_id, ln.warehouse.removeprefix("warehouses/"), ln.quantity)
            for ln in got.lines
        ) == sorted((x.variant_id, x.warehouse_id, x.quantity) for x in expected), (
            trial,
            demand,
            pincode,
            state,
        )


@pytest.mark.parametrize("inventory_database_url", ["postgres"], indirect=True)
async def test_a_violated_constraint_on_the_driver_path_is_an_integrity_error(
    inventory: Inventory,
) -> None:
    wid = (await inventory.warehouse()).removeprefix("warehouses/")
    vid = inventory.variant()
    await inventory.stock(f"warehouses/{wid}", vid, 1)
    # The CHECK constraint (reserved <= on hand): SQLAlchemy's IntegrityError, as
    # from a session; nothing changed.
    with pytest.raises(IntegrityError):
        await inventory.db.fetch(
            "UPDATE inventory SET reserved = 2 WHERE variant_id = $1::varchar", vid
        )
    assert (await inventory.level(f"warehouses/{wid}", vid)).reserved == 0


async def test_two_sweepers_release_each_lapsed_hold_once(inventory: Inventory) -> None:
    wh = await inventory.warehouse()
    vid = inventory.variant()
    await inventory.stock(wh, vid, 40)
    keep = await inventory.reserve([(vid, 4)])
    lapsing = [await inventory.reserve([(vid, 1 + i % 3)], ttl_seconds=1) for i in range(12)]
    assert (await inventory.level(wh, vid)).reserved == 4 + sum(1 + i % 3 for i in range(12))
    await asyncio.sleep(1.1)
    wired = inventory.wired
    replicas = [ReservationHandlers(wired.db, wired.outbox, wired.settings) for _ in range(2)]
    released = await asyncio.gather(*(r.sweep_once() for r in replicas))
    assert sum(released) >= len(lapsing)  # each released by one of them (others' too)
    level = await inventory.level(wh, vid)
    assert (level.on_hand, level.reserved) == (40, 4)
    for r in lapsing:
        got = await inventory.reservations.GetReservation(
            res_pb2.GetReservationRequest(name=r.name)
        )
        assert got.state == State.RESERVATION_STATE_EXPIRED
    # Sweeping again changes nothing.
    assert await asyncio.gather(*(r.sweep_once() for r in replicas)) == [0, 0]
    assert (await inventory.level(wh, vid)).reserved == 4
    done = await inventory.reservations.CommitReservation(
        res_pb2.CommitReservationRequest(name=keep.name)
    )
    assert done.state == State.RESERVATION_STATE_COMMITTED
