"""Reservations and availability over real gRPC, on SQLite and PostgreSQL.

What a caller sees: all-or-nothing holds, nearest-warehouse allocation that splits
only when it must, idempotent retries (also concurrent), exactly one winner for
the last unit under 50 concurrent calls, commit/release/expiry, backorders filled
oldest first from incoming stock, and one low-stock event per dip.
"""

from __future__ import annotations

import asyncio
import random
import secrets

import grpc
import pytest

from cleanse.inventory.v1 import availability_service_pb2 as av_pb2
from cleanse.inventory.v1 import inventory_admin_service_pb2 as admin_pb2
from cleanse.inventory.v1 import reservation_service_pb2 as res_pb2
from cleanse.inventory.v1 import resources_pb2
from tests.inventory.conftest import Inventory
from tests.support.rpc import reason

Status = av_pb2.StockStatus
State = resources_pb2.ReservationState
Reason = resources_pb2.AdjustmentReason


async def one_warehouse_stock(inv: Inventory, on_hand: int, **kw: object) -> tuple[str, str]:
    wh = await inv.warehouse()
    vid = inv.variant()
    await inv.stock(wh, vid, on_hand, **kw)
    return wh, vid


async def test_reserve_commit_release_and_availability(inventory: Inventory) -> None:
    wh, vid = await one_warehouse_stock(inventory, 10, reorder_point=3)
    assert (await inventory.avail(vid)).status == Status.STOCK_STATUS_IN_STOCK

    held = await inventory.reserve([(vid, 7)])
    assert held.state == State.RESERVATION_STATE_HELD
    assert [(ln.warehouse, ln.quantity) for ln in held.lines] == [(wh, 7)]
    a = await inventory.avail(vid)
    assert (a.available, a.status) == (3, Status.STOCK_STATUS_LOW_STOCK)

    # Too much for what is left: nothing is reserved.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.reserve([(vid, 4)])
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "OUT_OF_STOCK"
    assert (await inventory.avail(vid)).available == 3

    done = await inventory.reservations.CommitReservation(
        res_pb2.CommitReservationRequest(name=held.name)
    )
    assert done.state == State.RESERVATION_STATE_COMMITTED
    level = await inventory.level(wh, vid)
    assert (level.on_hand, level.reserved, level.available) == (3, 0, 3)
    # Committing again is harmless; releasing a committed one is refused.
    again = await inventory.reservations.CommitReservation(
        res_pb2.CommitReservationRequest(name=held.name)
    )
    assert again.state == State.RESERVATION_STATE_COMMITTED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.reservations.ReleaseReservation(
            res_pb2.ReleaseReservationRequest(name=held.name)
        )
    assert reason(err.value) == "RESERVATION_COMMITTED"

    other = await inventory.reserve([(vid, 3)])
    assert (await inventory.avail(vid)).status == Status.STOCK_STATUS_OUT_OF_STOCK
    released = await inventory.reservations.ReleaseReservation(
        res_pb2.ReleaseReservationRequest(name=other.name)
    )
    assert released.state == State.RESERVATION_STATE_RELEASED
    assert (await inventory.avail(vid)).available == 3
    got = await inventory.reservations.GetReservation(
        res_pb2.GetReservationRequest(name=other.name)
    )
    assert got.state == State.RESERVATION_STATE_RELEASED


async def test_unknown_variant_is_out_of_stock(inventory: Inventory) -> None:
    resp = await inventory.availability.BatchGetAvailability(
        av_pb2.BatchGetAvailabilityRequest(variant_ids=["var_nope", "var_nope2"])
    )
    assert [(a.variant_id, a.status) for a in resp.availabilities] == [
        ("var_nope", Status.STOCK_STATUS_OUT_OF_STOCK),
        ("var_nope2", Status.STOCK_STATUS_OUT_OF_STOCK),
    ]


async def test_allocation_prefers_one_nearest_warehouse_and_splits_only_when_it_must(
    inventory: Inventory,
) -> None:
    blr = await inventory.warehouse("560099", "KA")
    bhw = await inventory.warehouse("421302", "MH")
    ggn = await inventory.warehouse("122004", "HR")
    a, b = inventory.variant(), inventory.variant()
    for wh, qa, qb in ((blr, 5, 1), (bhw, 5, 5), (ggn, 5, 5)):
        await inventory.stock(wh, a, qa)
        await inventory.stock(wh, b, qb)

    # Gurugram customer: Gurugram ships everything.
    r = await inventory.reserve([(a, 1), (b, 1)], delivery_pincode="122018")
    assert {ln.warehouse for ln in r.lines} == {ggn} and r.shipment_count == 1
    # Bengaluru customer, but Bengaluru cannot ship both lines: ONE other warehouse
    # (not a split with Bengaluru) — the nearer by prefix: Bhiwandi (4xxxxx) vs
    # Gurugram (1xxxxx) are both "other region" for 560xxx: the state tie-break
    # does not apply, so the id order decides; either way, one warehouse.
    r = await inventory.reserve([(a, 1), (b, 3)], delivery_pincode="560034")
    assert r.shipment_count == 1 and {ln.warehouse for ln in r.lines} != {blr}
    # Needs more than any one warehouse has: split over as few as possible (2 of 3),
    # the nearest (Bhiwandi for a 421xxx pincode) first.
    c = inventory.variant()
    for wh, qc in ((blr, 1), (bhw, 4), (ggn, 4)):
        await inventory.stock(wh, c, qc)
    r = await inventory.reserve([(c, 7)], delivery_pincode="421001")
    assert r.shipment_count == 2
    assert {(ln.warehouse, ln.quantity) for ln in r.lines} == {(bhw, 4), (ggn, 3)}


async def test_lines_of_one_variant_are_checked_together(inventory: Inventory) -> None:
    _, vid = await one_warehouse_stock(inventory, 3)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.reserve([(vid, 2), (vid, 2)])
    assert reason(err.value) == "OUT_OF_STOCK"
    r = await inventory.reserve([(vid, 1), (vid, 2)])
    assert [(ln.variant_id, ln.quantity) for ln in r.lines] == [(vid, 3)]
    assert (await inventory.avail(vid)).available == 0


async def test_all_or_nothing_across_variants(inventory: Inventory) -> None:
    wh = await inventory.warehouse()
    a, b = inventory.variant(), inventory.variant()
    await inventory.stock(wh, a, 5)
    await inventory.stock(wh, b, 1)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.reserve([(a, 2), (b, 2)])
    assert reason(err.value) == "OUT_OF_STOCK"
    assert (await inventory.avail(a)).available == 5


async def test_fifty_concurrent_reservations_for_the_last_unit(inventory: Inventory) -> None:
    wh, vid = await one_warehouse_stock(inventory, 1)
    results = await asyncio.gather(
        *(inventory.reserve([(vid, 1)]) for _ in range(50)), return_exceptions=True
    )
    ok = [r for r in results if isinstance(r, resources_pb2.Reservation)]
    failed = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(ok) == 1 and len(failed) == 49
    assert {(e.code(), reason(e)) for e in failed} == {
        (grpc.StatusCode.FAILED_PRECONDITION, "OUT_OF_STOCK")
    }
    level = await inventory.level(wh, vid)
    assert (level.on_hand, level.reserved, level.available) == (1, 1, 0)


async def test_concurrent_mixed_demand_never_oversells(inventory: Inventory) -> None:
    wh = await inventory.warehouse()
    a, b = inventory.variant(), inventory.variant()
    await inventory.stock(wh, a, 20)
    await inventory.stock(wh, b, 15)
    rng = random.Random(7)
    orders = [[(a, rng.randint(1, 3)), (b, rng.randint(1, 3))] for _ in range(40)]
    results = await asyncio.gather(*(inventory.reserve(o) for o in orders), return_exceptions=True)
    won = [o for o, r in zip(orders, results, strict=True) if not isinstance(r, Exception)]
    assert all(
        isinstance(r, resources_pb2.Reservation) or reason(r) == "OUT_OF_STOCK" for r in results
    )
    for vid, total in ((a, 20), (b, 15)):
        level = await inventory.level(wh, vid)
        reserved = sum(q for o in won for v, q in o if v == vid)
        assert level.reserved == reserved <= total
        assert level.available == total - reserved >= 0


async def test_retried_reservation_reserves_once(inventory: Inventory) -> None:
    wh, vid = await one_warehouse_stock(inventory, 10)
    rid = secrets.token_hex(8)
    first = await inventory.reserve([(vid, 2)], request_id=rid, delivery_pincode="560001")
    again = await inventory.reserve([(vid, 2)], request_id=rid, delivery_pincode="560001")
    assert again.name == first.name
    assert (await inventory.level(wh, vid)).reserved == 2
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.reserve([(vid, 3)], request_id=rid, delivery_pincode="560001")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "IDEMPOTENCY_MISMATCH"

    # Concurrent duplicates of a new request: one reservation.
    rid2 = secrets.token_hex(8)
    results = await asyncio.gather(
        *(inventory.reserve([(vid, 3)], request_id=rid2) for _ in range(20))
    )
    assert len({r.name for r in results}) == 1
    assert (await inventory.level(wh, vid)).reserved == 5


async def test_expired_holds_are_released_by_the_sweeper(inventory: Inventory) -> None:
    _wh, vid = await one_warehouse_stock(inventory, 4)
    held = await inventory.reserve([(vid, 4)], ttl_seconds=1)
    assert (await inventory.avail(vid)).available == 0
    await asyncio.sleep(1.1)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.reservations.CommitReservation(
            res_pb2.CommitReservationRequest(name=held.name)
        )
    assert reason(err.value) == "RESERVATION_EXPIRED"
    assert await inventory.wired.reservations.sweep_once() >= 1
    got = await inventory.reservations.GetReservation(res_pb2.GetReservationRequest(name=held.name))
    assert got.state == State.RESERVATION_STATE_EXPIRED
    assert (await inventory.avail(vid)).available == 4
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.reservations.CommitReservation(
            res_pb2.CommitReservationRequest(name=held.name)
        )
    assert reason(err.value) == "RESERVATION_NOT_HELD"


async def test_backorders_up_to_the_limit_filled_oldest_first(inventory: Inventory) -> None:
    wh, vid = await one_warehouse_stock(inventory, 1, backorder_allowed=True, backorder_limit=5)
    first = await inventory.reserve([(vid, 3)])  # 1 from stock, 2 on backorder
    assert [(ln.quantity, ln.backordered_quantity) for ln in first.lines] == [(1, 2)]
    a = await inventory.avail(vid)
    assert (a.status, a.available, a.backorder_remaining) == (
        Status.STOCK_STATUS_BACKORDER,
        0,
        3,
    )
    second = await inventory.reserve([(vid, 3)])  # all 3 on backorder
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.reserve([(vid, 1)])  # over the limit
    assert reason(err.value) == "OUT_OF_STOCK"
    # The first one is paid while still partly on backorder.
    await inventory.reservations.CommitReservation(
        res_pb2.CommitReservationRequest(name=first.name)
    )

    resp = await inventory.admin.AdjustStock(
        admin_pb2.AdjustStockRequest(
            name=f"{wh}/stockLevels/{vid}", delta=4, reason=Reason.ADJUSTMENT_REASON_RECEIVED
        ),
        metadata=inventory.md(),
    )
    # Oldest first: the first order's 2 units, then 2 of the second's 3.
    assert resp.allocated_to_backorders == 4
    bos = await inventory.admin.ListBackorders(
        admin_pb2.ListBackordersRequest(variant_id=vid), metadata=inventory.md()
    )
    assert [(b.reservation, b.allocated_quantity, b.state) for b in bos.backorders] == [
        (first.name, 2, resources_pb2.BackorderState.BACKORDER_STATE_FILLED),
        (second.name, 2, resources_pb2.BackorderState.BACKORDER_STATE_OPEN),
    ]
    level = resp.stock_level
    # The paid order's 2 units left at once; the held one now holds 2 real units.
    assert (level.on_hand, level.reserved, level.backordered) == (2, 2, 1)
    got = await inventory.reservations.GetReservation(
        res_pb2.GetReservationRequest(name=second.name)
    )
    assert [(ln.quantity, ln.backordered_quantity) for ln in got.lines] == [(2, 1)]
    # Releasing it gives back its units and cancels what is still on backorder.
    await inventory.reservations.ReleaseReservation(
        res_pb2.ReleaseReservationRequest(name=second.name)
    )
    level = await inventory.level(wh, vid)
    assert (level.on_hand, level.reserved, level.backordered, level.available) == (2, 0, 0, 2)


async def test_low_stock_event_once_per_crossing(inventory: Inventory) -> None:
    wh, vid = await one_warehouse_stock(inventory, 10, reorder_point=5)
    r1 = await inventory.reserve([(vid, 5)])  # available 5: at the reorder point
    events = await inventory.low_stock_events(vid)
    assert [(e.available, e.reorder_point, e.warehouse) for e in events] == [(5, 5, wh)]
    r2 = await inventory.reserve([(vid, 1)])  # still below: no second event
    assert len(await inventory.low_stock_events(vid)) == 1
    for r in (r1, r2):
        await inventory.reservations.ReleaseReservation(
            res_pb2.ReleaseReservationRequest(name=r.name)
        )
    await inventory.reserve([(vid, 7)])  # a new dip after recovering: a new event
    events = await inventory.low_stock_events(vid)
    assert [e.available for e in events] == [5, 3]
    low = await inventory.admin.ListLowStockItems(
        admin_pb2.ListLowStockItemsRequest(warehouse=wh), metadata=inventory.md()
    )
    assert [s.variant_id for s in low.stock_levels] == [vid]


async def test_restock_return_is_idempotent(inventory: Inventory) -> None:
    wh, vid = await one_warehouse_stock(inventory, 5)
    r = await inventory.reserve([(vid, 2)])
    await inventory.reservations.CommitReservation(res_pb2.CommitReservationRequest(name=r.name))
    req = res_pb2.RestockReturnRequest(
        request_id=secrets.token_hex(8),
        reservation=r.name,
        lines=[res_pb2.ReserveLine(variant_id=vid, quantity=1)],
    )
    first = await inventory.reservations.RestockReturn(req)
    again = await inventory.reservations.RestockReturn(req)
    assert first == again
    assert [(a.delta, a.reason, a.warehouse) for a in first.adjustments] == [
        (1, Reason.ADJUSTMENT_REASON_RETURN_RESTOCK, wh)
    ]
    assert (await inventory.level(wh, vid)).on_hand == 4


async def test_internal_rpcs_refuse_admins(inventory: Inventory) -> None:
    from cleanse.inventory.v1 import reservation_service_pb2_grpc

    direct = reservation_service_pb2_grpc.ReservationServiceStub(inventory.channel)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await direct.ReserveStock(
            res_pb2.ReserveStockRequest(
                request_id="x", lines=[res_pb2.ReserveLine(variant_id="v", quantity=1)]
            ),
            metadata=inventory.md(),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_commit_records_a_sale_per_stock_row(inventory: Inventory) -> None:
    """A split reservation commits every stock row it holds: units leave on hand and
    reserved, one SALE adjustment each (on hand after, the reservation, the caller)."""
    blr = await inventory.warehouse("560099", "KA")
    bhw = await inventory.warehouse("421302", "MH")
    vid = inventory.variant()
    await inventory.stock(blr, vid, 3)
    await inventory.stock(bhw, vid, 4)
    held = await inventory.reserve([(vid, 6)], delivery_pincode="560001")
    # Split: the warehouse covering the most first (Bhiwandi's 4), then Bengaluru.
    assert sorted((ln.warehouse, ln.quantity) for ln in held.lines) == sorted([(blr, 2), (bhw, 4)])
    got = await inventory.reservations.GetReservation(res_pb2.GetReservationRequest(name=held.name))
    assert got == held
    done = await inventory.reservations.CommitReservation(
        res_pb2.CommitReservationRequest(name=held.name)
    )
    assert done.state == State.RESERVATION_STATE_COMMITTED
    assert list(done.lines) == list(held.lines)
    assert done.expire_time == held.expire_time and done.create_time == held.create_time
    for wh, on_hand in ((blr, 1), (bhw, 0)):
        level = await inventory.level(wh, vid)
        assert (level.on_hand, level.reserved) == (on_hand, 0)
    listed = await inventory.admin.ListAdjustments(
        admin_pb2.ListAdjustmentsRequest(variant_id=vid), metadata=inventory.md()
    )
    sales = sorted(
        (a.warehouse, a.delta, a.on_hand_after, a.reference, a.actor)
        for a in listed.adjustments
        if a.reason == Reason.ADJUSTMENT_REASON_SALE
    )
    assert sales == sorted([(blr, -2, 1, held.name, "order"), (bhw, -4, 0, held.name, "order")])
    again = await inventory.reservations.CommitReservation(
        res_pb2.CommitReservationRequest(name=held.name)
    )
    assert again.state == State.RESERVATION_STATE_COMMITTED
    assert list(again.lines) == list(held.lines)


async def test_concurrent_commits_and_releases_settle_each_hold_once(
    inventory: Inventory,
) -> None:
    """Holds over two shared stock rows, each committed twice and released once, all
    at the same time: every hold ends committed or released, never both, with one SALE
    per committed line, and the stock adds up (no deadlock, no double sale)."""
    wh = await inventory.warehouse()
    a, b = inventory.variant(), inventory.variant()
    await inventory.stock(wh, a, 100)
    await inventory.stock(wh, b, 100)
    holds = [await inventory.reserve([(a, 1 + i % 3), (b, 2)]) for i in range(12)]
    rng = random.Random(3)

    async def settle(h: resources_pb2.Reservation) -> list[object]:
        calls = [
            inventory.reservations.CommitReservation(res_pb2.CommitReservationRequest(name=h.name)),
            inventory.reservations.CommitReservation(res_pb2.CommitReservationRequest(name=h.name)),
            inventory.reservations.ReleaseReservation(
                res_pb2.ReleaseReservationRequest(name=h.name)
            ),
        ]
        rng.shuffle(calls)
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = await asyncio.gather(*(settle(h) for h in holds))
    sold = {a: 0, b: 0}
    for h, results in zip(holds, outcomes, strict=True):
        final = await inventory.reservations.GetReservation(
            res_pb2.GetReservationRequest(name=h.name)
        )
        errors = {reason(r) for r in results if isinstance(r, grpc.aio.AioRpcError)}
        if final.state == State.RESERVATION_STATE_COMMITTED:
            assert errors <= {"RESERVATION_COMMITTED"}
            for ln in h.lines:
                sold[ln.variant_id] += ln.quantity
        else:
            assert final.state == State.RESERVATION_STATE_RELEASED
            assert errors == {"RESERVATION_NOT_HELD"}
    listed = await inventory.admin.ListAdjustments(
        admin_pb2.ListAdjustmentsRequest(warehouse=wh, page_size=100), metadata=inventory.md()
    )
    for vid in (a, b):
        level = await inventory.level(wh, vid)
        assert (level.on_hand, level.reserved) == (100 - sold[vid], 0)
        sales = [
            -x.delta
            for x in listed.adjustments
            if x.variant_id == vid and x.reason == Reason.ADJUSTMENT_REASON_SALE
        ]
        assert sum(sales) == sold[vid]


async def test_concurrent_reservations_alert_low_stock_once(inventory: Inventory) -> None:
    """Thirty holds at once on a row that crosses its reorder point on the way: every
    unit is counted once and the dip raises exactly one low-stock event."""
    wh, vid = await one_warehouse_stock(inventory, 40, reorder_point=15)
    results = await asyncio.gather(*(inventory.reserve([(vid, 1)]) for _ in range(30)))
    assert len({r.name for r in results}) == 30
    level = await inventory.level(wh, vid)
    assert (level.on_hand, level.reserved, level.available, level.low_stock) == (40, 30, 10, True)
    events = await inventory.low_stock_events(vid)
    assert [(e.available, e.reorder_point) for e in events] == [(15, 15)]
