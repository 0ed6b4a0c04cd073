"""RestockReturn against a reservation, over real gRPC, on SQLite and PostgreSQL.

Returned units go back to the warehouses the reservation took them from, split in
proportion to what each warehouse still has out for it (took, less what earlier
restocks against the reservation put back; README "Returns"). Several restocks
against one reservation (an edit's removed units, partial returns, a cancel) never
put back more than it took, per warehouse, also when they run concurrently; a
request id replays its first answer.
"""

from __future__ import annotations

import asyncio
import secrets

import grpc
import pytest

from cleanse.inventory.v1 import inventory_admin_service_pb2 as admin_pb2
from cleanse.inventory.v1 import reservation_service_pb2 as res_pb2
from cleanse.inventory.v1 import resources_pb2
from tests.inventory.conftest import Inventory
from tests.support.rpc import reason

Reason = resources_pb2.AdjustmentReason


async def split_sale(inv: Inventory, a: int, b: int) -> tuple[str, str, str, str]:
    """A variant stocked `a` in one warehouse and `b` in another, all of it sold under
    one split reservation: (reservation name, variant, warehouse A, warehouse B)."""
    wa, wb = await inv.warehouse("560099", "KA"), await inv.warehouse("421302", "MH")
    vid = inv.variant()
    await inv.stock(wa, vid, a)
    await inv.stock(wb, vid, b)
    held = await inv.reserve([(vid, a + b)])
    assert sorted((ln.warehouse, ln.quantity) for ln in held.lines) == sorted([(wa, a), (wb, b)])
    await inv.reservations.CommitReservation(res_pb2.CommitReservationRequest(name=held.name))
    assert await on_hand(inv, vid, wa, wb) == (0, 0)
    return held.name, vid, wa, wb


async def on_hand(inv: Inventory, vid: str, *warehouses: str) -> tuple[int, ...]:
    return tuple([(await inv.level(wh, vid)).on_hand for wh in warehouses])


def restock_req(
    reservation: str, lines: list[tuple[str, int]], request_id: str | None = None, **kw: str
) -> res_pb2.RestockReturnRequest:
    return res_pb2.RestockReturnRequest(
        request_id=request_id or secrets.token_hex(8),
        reservation=reservation,
        lines=[res_pb2.ReserveLine(variant_id=v, quantity=q) for v, q in lines],
        **kw,
    )


async def restock(
    inv: Inventory, reservation: str, lines: list[tuple[str, int]], **kw: str
) -> dict[str, int]:
    """Units put back by one restock, by warehouse (from its adjustments)."""
    got = await inv.reservations.RestockReturn(restock_req(reservation, lines, **kw))
    out: dict[str, int] = {}
    for a in got.adjustments:
        assert a.reason == Reason.ADJUSTMENT_REASON_RETURN_RESTOCK and a.reference == reservation
        out[a.warehouse] = out.get(a.warehouse, 0) + a.delta
    return out


async def restock_ledger(inv: Inventory, vid: str) -> dict[str, int]:
    """RETURN_RESTOCK adjustments of a variant summed by warehouse."""
    listed = await inv.admin.ListAdjustments(
        admin_pb2.ListAdjustmentsRequest(
            variant_id=vid, reason=Reason.ADJUSTMENT_REASON_RETURN_RESTOCK, page_size=100
        ),
        metadata=inv.md(),
    )
    out: dict[str, int] = {}
    for a in listed.adjustments:
        out[a.warehouse] = out.get(a.warehouse, 0) + a.delta
    return out


async def test_split_reservation_restocked_in_full_goes_back_per_warehouse(
    inventory: Inventory,
) -> None:
    name, vid, wa, wb = await split_sale(inventory, 3, 2)
    assert await restock(inventory, name, [(vid, 5)]) == {wa: 3, wb: 2}
    assert await on_hand(inventory, vid, wa, wb) == (3, 2)
    assert await restock_ledger(inventory, vid) == {wa: 3, wb: 2}


async def test_split_reservation_restocked_in_part_is_split_in_proportion(
    inventory: Inventory,
) -> None:
    name, vid, wa, wb = await split_sale(inventory, 6, 4)
    # Half back: 6:4 of 5 is 3 + 2; then the other half, exactly what is left out.
    assert await restock(inventory, name, [(vid, 5)]) == {wa: 3, wb: 2}
    assert await on_hand(inventory, vid, wa, wb) == (3, 2)
    assert await restock(inventory, name, [(vid, 5)]) == {wa: 3, wb: 2}
    assert await on_hand(inventory, vid, wa, wb) == (6, 4)
    listed = await inventory.admin.ListAdjustments(
        admin_pb2.ListAdjustmentsRequest(
            variant_id=vid, reason=Reason.ADJUSTMENT_REASON_RETURN_RESTOCK
        ),
        metadata=inventory.md(),
    )
    # One exact ledger row per warehouse and restock, with its on hand after.
    assert sorted((a.warehouse, a.delta, a.on_hand_after) for a in listed.adjustments) == sorted(
        [(wa, 3, 3), (wa, 3, 6), (wb, 2, 2), (wb, 2, 4)]
    )


async def test_repeated_partial_restocks_never_exceed_what_each_warehouse_gave(
    inventory: Inventory,
) -> None:
    """An edit removes 1 unit, two partial returns (2, then 3), then a cancel puts
    back the other 4: each split in proportion to what is still out per warehouse
    (largest remainder), together exactly what the reservation took."""
    name, vid, wa, wb = await split_sale(inventory, 6, 4)
    assert await restock(inventory, name, [(vid, 1)]) == {wa: 1}  # out 6:4 -> 0.6 / 0.4
    assert await restock(inventory, name, [(vid, 2)]) == {wa: 1, wb: 1}  # out 5:4
    assert await restock(inventory, name, [(vid, 3)]) == {wa: 2, wb: 1}  # out 4:3
    assert await on_hand(inventory, vid, wa, wb) == (4, 2)
    assert await restock(inventory, name, [(vid, 4)]) == {wa: 2, wb: 2}  # the rest
    assert await on_hand(inventory, vid, wa, wb) == (6, 4)
    assert await restock_ledger(inventory, vid) == {wa: 6, wb: 4}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await restock(inventory, name, [(vid, 1)])
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "RESTOCK_EXCEEDS_RESERVATION"
    assert await on_hand(inventory, vid, wa, wb) == (6, 4)


async def test_over_restock_is_refused_and_puts_nothing_back(inventory: Inventory) -> None:
    name, vid, wa, wb = await split_sale(inventory, 3, 2)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await restock(inventory, name, [(vid, 6)])
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "RESTOCK_EXCEEDS_RESERVATION"
    assert await on_hand(inventory, vid, wa, wb) == (0, 0)
    assert await restock(inventory, name, [(vid, 4)]) == {wa: 2, wb: 2}  # out 3:2
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await restock(inventory, name, [(vid, 2)])  # only 1 left out
    assert reason(err.value) == "RESTOCK_EXCEEDS_RESERVATION"
    assert await restock(inventory, name, [(vid, 1)]) == {wa: 1}
    assert await on_hand(inventory, vid, wa, wb) == (3, 2)
    assert await restock_ledger(inventory, vid) == {wa: 3, wb: 2}


async def test_over_restock_of_one_variant_puts_back_no_variant(inventory: Inventory) -> None:
    wh = await inventory.warehouse()
    a, b = inventory.variant(), inventory.variant()
    await inventory.stock(wh, a, 2)
    await inventory.stock(wh, b, 2)
    r = await inventory.reserve([(a, 2), (b, 1)])
    await inventory.reservations.CommitReservation(res_pb2.CommitReservationRequest(name=r.name))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await restock(inventory, r.name, [(a, 1), (b, 2)])
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "RESTOCK_EXCEEDS_RESERVATION"
    assert await on_hand(inventory, a, wh) + await on_hand(inventory, b, wh) == (0, 1)


async def test_only_a_committed_reservation_takes_returns(inventory: Inventory) -> None:
    """Held units never left on hand, released ones came back already: neither can
    be restocked (FAILED_PRECONDITION); a variant the reservation never had is
    INVALID_ARGUMENT, as before."""
    wh = await inventory.warehouse()
    vid, other = inventory.variant(), inventory.variant()
    await inventory.stock(wh, vid, 5)
    held = await inventory.reserve([(vid, 2)])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await restock(inventory, held.name, [(vid, 1)])
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "RESERVATION_NOT_COMMITTED"
    await inventory.reservations.ReleaseReservation(
        res_pb2.ReleaseReservationRequest(name=held.name)
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await restock(inventory, held.name, [(vid, 1)])
    assert reason(err.value) == "RESERVATION_NOT_COMMITTED"
    assert await on_hand(inventory, vid, wh) == (5,)
    sold = await inventory.reserve([(vid, 2)])
    await inventory.reservations.CommitReservation(res_pb2.CommitReservationRequest(name=sold.name))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await restock(inventory, sold.name, [(other, 1)])
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await on_hand(inventory, vid, wh) == (3,)


async def test_a_restock_into_another_warehouse_counts_against_the_reservation(
    inventory: Inventory,
) -> None:
    """`warehouse` sends the units elsewhere (the parcel came back there); they still
    count as back against the reservation."""
    name, vid, wa, wb = await split_sale(inventory, 3, 2)
    wc = await inventory.warehouse("122004", "HR")
    assert await restock(inventory, name, [(vid, 4)], warehouse=wc) == {wc: 4}
    assert await on_hand(inventory, vid, wa, wb, wc) == (0, 0, 4)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await restock(inventory, name, [(vid, 2)])
    assert reason(err.value) == "RESTOCK_EXCEEDS_RESERVATION"
    assert sum((await restock(inventory, name, [(vid, 1)])).values()) == 1
    assert sum(await on_hand(inventory, vid, wa, wb, wc)) == 5


async def test_restock_replays_on_its_request_id(inventory: Inventory) -> None:
    name, vid, wa, wb = await split_sale(inventory, 3, 2)
    req = restock_req(name, [(vid, 5)], note="parcel 1")
    first = await inventory.reservations.RestockReturn(req)
    assert sorted((a.warehouse, a.delta) for a in first.adjustments) == sorted([(wa, 3), (wb, 2)])
    # Nothing is left out, yet the same request answers as it did the first time.
    again = await inventory.reservations.RestockReturn(req)
    assert again == first
    assert await on_hand(inventory, vid, wa, wb) == (3, 2)
    other = restock_req(name, [(vid, 4)], request_id=req.request_id, note="parcel 1")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.reservations.RestockReturn(other)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "IDEMPOTENCY_MISMATCH"
    assert await on_hand(inventory, vid, wa, wb) == (3, 2)
    assert await restock_ledger(inventory, vid) == {wa: 3, wb: 2}


async def test_concurrent_restocks_never_exceed_the_reservation(inventory: Inventory) -> None:
    """Ten single-unit restocks at once against a split sale of 5 (3 + 2): exactly
    five put a unit back, the rest are refused, and each warehouse gets back exactly
    what it gave, with one ledger row per unit."""
    name, vid, wa, wb = await split_sale(inventory, 3, 2)
    results = await asyncio.gather(
        *(restock(inventory, name, [(vid, 1)]) for _ in range(10)), return_exceptions=True
    )
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(ok) == 5 and len(refused) == 5, results
    assert {reason(e) for e in refused} == {"RESTOCK_EXCEEDS_RESERVATION"}
    assert await on_hand(inventory, vid, wa, wb) == (3, 2)
    assert await restock_ledger(inventory, vid) == {wa: 3, wb: 2}


async def test_two_concurrent_large_restocks_one_wins(inventory: Inventory) -> None:
    name, vid, wa, wb = await split_sale(inventory, 3, 2)
    results = await asyncio.gather(
        restock(inventory, name, [(vid, 4)]),
        restock(inventory, name, [(vid, 4)]),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert ok == [{wa: 2, wb: 2}] and len(refused) == 1, results
    assert reason(refused[0]) == "RESTOCK_EXCEEDS_RESERVATION"
    assert await on_hand(inventory, vid, wa, wb) == (2, 2)


async def test_concurrent_duplicates_restock_once(inventory: Inventory) -> None:
    name, vid, wa, wb = await split_sale(inventory, 3, 2)
    req = restock_req(name, [(vid, 3)])
    got = await asyncio.gather(*(inventory.reservations.RestockReturn(req) for _ in range(6)))
    assert all(g == got[0] for g in got)
    assert sum(a.delta for a in got[0].adjustments) == 3
    assert sum(await on_hand(inventory, vid, wa, wb)) == 3
    assert sum((await restock_ledger(inventory, vid)).values()) == 3


async def test_migration_counts_earlier_restocks_per_line(database_url: str) -> None:
    """0002 counts restocks made before lines counted them: what went into a line's
    own warehouse first, then the rest over the lines with room (the old code put a
    split variant's units all into its first warehouse), never over what was taken."""
    from datetime import UTC, datetime

    from sqlalchemy import TextClause, bindparam, text

    from mesh.db import Database, UTCDateTime

    def insert(sql: str) -> TextClause:
        return text(sql).bindparams(bindparam("now", type_=UTCDateTime()))

    db = Database("inventory", database_url)
    try:
        await db.migrate("0001")
        now = datetime(2026, 12, 1, 10, tzinfo=UTC)
        async with db.transaction() as s:
            for wid in ("wa", "wb"):
                await s.execute(
                    insert(
                        "INSERT INTO warehouses (id, display_name, recipient_name, phone, line1,"
                        " line2, landmark, city, state_code, pincode, country_code, active,"
                        " create_time, update_time) VALUES (:id, :id, '', '', '', '', '', '',"
                        " 'KA', '560001', 'IN', true, :now, :now)"
                    ),
                    {"id": wid, "now": now},
                )
            for rid in ("r1", "r2"):
                await s.execute(
                    insert(
                        "INSERT INTO inventory_reservations (id, request_id, body_hash, state,"
                        " delivery_pincode, delivery_state_code, expire_time, create_time,"
                        " update_time) VALUES (:id, :id, '', 'COMMITTED', '', '', :now, :now,"
                        " :now)"
                    ),
                    {"id": rid, "now": now},
                )
            # r1 took v 3 from wa and 2 from wb; r2 took v 4 from wb only.
            taken = (("l1", "r1", "wa", 3), ("l2", "r1", "wb", 2), ("l3", "r2", "wb", 4))
            for lid, rid, wid, q in taken:
                await s.execute(
                    text(
                        "INSERT INTO inventory_reservation_lines (id, reservation_id, variant_id,"
                        " warehouse_id, quantity, backordered_quantity)"
                        " VALUES (:id, :rid, 'v', :wid, :q, 0)"
                    ),
                    {"id": lid, "rid": rid, "wid": wid, "q": q},
                )
            # Old restocks: r1's 4 units all went into wa; r2's 1 unit into wb.
            for aid, wid, delta, ref in (
                ("a1", "wa", 4, "reservations/r1"),
                ("a2", "wb", 1, "reservations/r2"),
                ("a3", "wa", 9, ""),  # a restock into a warehouse, no reservation
            ):
                await s.execute(
                    insert(
                        "INSERT INTO inventory_adjustments (id, warehouse_id, variant_id, delta,"
                        " reason, note, actor, on_hand_after, reference, create_time)"
                        " VALUES (:id, :wid, 'v', :delta, 'RETURN_RESTOCK', '', 'order', 0,"
                        " :ref, :now)"
                    ),
                    {"id": aid, "wid": wid, "delta": delta, "ref": ref, "now": now},
                )
        await db.migrate()
        async with db.session() as s:
            rows = await s.execute(
                text("SELECT id, restocked_quantity FROM inventory_reservation_lines ORDER BY id")
            )
            assert dict(rows.all()) == {"l1": 3, "l2": 1, "l3": 1}
    finally:
        await db.dispose()
