"""Admin RPCs over real gRPC on SQLite and PostgreSQL: warehouses, stock levels checked
against the catalog, adjustments with actor and reason, transfers with in-transit
stock and partial receipts, CSV bulk updates, and the access policy."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from cleanse.inventory.v1 import inventory_admin_service_pb2 as admin_pb2
from cleanse.inventory.v1 import resources_pb2
from tests.inventory.conftest import Inventory, address
from tests.support.rpc import reason, violations

Reason = resources_pb2.AdjustmentReason
TState = resources_pb2.TransferState


async def test_warehouse_crud_and_validation(inventory: Inventory) -> None:
    md = inventory.md()
    wh = await inventory.warehouse("751001", "OR")  # a legacy code, stored as today's
    got = await inventory.admin.GetWarehouse(admin_pb2.GetWarehouseRequest(name=wh), metadata=md)
    assert (got.address.pincode, got.address.state_code, got.active) == ("751001", "OD", True)

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.admin.CreateWarehouse(
            admin_pb2.CreateWarehouseRequest(
                warehouse_id="bad-pin",
                warehouse=resources_pb2.Warehouse(
                    display_name="X", address=address("012345", "ZZ")
                ),
            ),
            metadata=md,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(err.value)) == {
        "warehouse.address.pincode",
        "warehouse.address.state_code",
    }
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.admin.CreateWarehouse(
            admin_pb2.CreateWarehouseRequest(
                warehouse_id=wh.split("/")[1],
                warehouse=resources_pb2.Warehouse(
                    display_name="X", address=address("411001", "MH")
                ),
            ),
            metadata=md,
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS

    updated = await inventory.admin.UpdateWarehouse(
        admin_pb2.UpdateWarehouseRequest(
            warehouse=resources_pb2.Warehouse(
                name=wh, active=False, address=address("110001", "DL")
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["active", "address.pincode"]),
        ),
        metadata=md,
    )
    assert (updated.active, updated.address.pincode, updated.address.state_code) == (
        False,
        "110001",
        "OD",
    )
    listed = await inventory.admin.ListWarehouses(admin_pb2.ListWarehousesRequest(), metadata=md)
    assert wh not in {w.name for w in listed.warehouses}
    await inventory.admin.DeleteWarehouse(admin_pb2.DeleteWarehouseRequest(name=wh), metadata=md)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.admin.GetWarehouse(admin_pb2.GetWarehouseRequest(name=wh), metadata=md)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_permissions_are_enforced(inventory: Inventory) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.admin.ListWarehouses(admin_pb2.ListWarehousesRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.admin.CreateWarehouse(
            admin_pb2.CreateWarehouseRequest(
                warehouse_id="nope",
                warehouse=resources_pb2.Warehouse(
                    display_name="X", address=address("560001", "KA")
                ),
            ),
            metadata=inventory.md(perms=("inventory.read",)),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_stock_levels_are_checked_with_the_catalog(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = await inventory.warehouse()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.stock(wh, "var_not_in_catalog", 5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(err.value) == "UNKNOWN_VARIANT"

    vid = inventory.variant()
    from tests.conftest import free_address

    monkeypatch.setenv("CLEANSE_CATALOG_ADDR", str(free_address()))  # catalog down
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.stock(wh, vid, 5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "catalog" in (err.value.details() or "")
    monkeypatch.undo()
    from mesh import client

    client.reset_breakers()
    level = await inventory.stock(wh, vid, 5, reorder_point=2, safety_stock=1)
    assert (level.on_hand, level.available, level.reorder_point) == (5, 4, 2)


async def test_adjustments_record_reason_actor_and_time(inventory: Inventory) -> None:
    wh = await inventory.warehouse()
    vid = inventory.variant()
    await inventory.stock(wh, vid, 10)
    name = f"{wh}/stockLevels/{vid}"
    md = inventory.md(subject="adminUsers/ops-7")
    resp = await inventory.admin.AdjustStock(
        admin_pb2.AdjustStockRequest(
            name=name, delta=-3, reason=Reason.ADJUSTMENT_REASON_DAMAGED, note="leaking caps"
        ),
        metadata=md,
    )
    assert resp.stock_level.on_hand == 7
    adj = resp.adjustment
    assert (adj.delta, adj.reason, adj.actor, adj.on_hand_after) == (
        -3,
        Reason.ADJUSTMENT_REASON_DAMAGED,
        "adminUsers/ops-7",
        7,
    )
    assert adj.create_time.seconds > 0
    with pytest.raises(grpc.aio.AioRpcError) as err:  # DAMAGED must remove units
        await inventory.admin.AdjustStock(
            admin_pb2.AdjustStockRequest(
                name=name, delta=2, reason=Reason.ADJUSTMENT_REASON_DAMAGED
            ),
            metadata=md,
        )
    assert "delta" in violations(err.value)
    await inventory.reserve([(vid, 6)])
    with pytest.raises(grpc.aio.AioRpcError) as err:  # reserved units cannot be written off
        await inventory.admin.AdjustStock(
            admin_pb2.AdjustStockRequest(name=name, delta=-2, reason=Reason.ADJUSTMENT_REASON_LOST),
            metadata=md,
        )
    assert reason(err.value) == "INSUFFICIENT_STOCK"
    listed = await inventory.admin.ListAdjustments(
        admin_pb2.ListAdjustmentsRequest(variant_id=vid), metadata=md
    )
    # Newest first: the damage, then the initial count set by SetStockLevel.
    assert [(a.reason, a.delta) for a in listed.adjustments] == [
        (Reason.ADJUSTMENT_REASON_DAMAGED, -3),
        (Reason.ADJUSTMENT_REASON_COUNT_CORRECTION, 10),
    ]
    page = await inventory.admin.ListAdjustments(
        admin_pb2.ListAdjustmentsRequest(variant_id=vid, page_size=1), metadata=md
    )
    assert len(page.adjustments) == 1 and page.next_page_token
    nxt = await inventory.admin.ListAdjustments(
        admin_pb2.ListAdjustmentsRequest(
            variant_id=vid, page_size=1, page_token=page.next_page_token
        ),
        metadata=md,
    )
    assert nxt.adjustments[0].reason == Reason.ADJUSTMENT_REASON_COUNT_CORRECTION


async def test_transfer_dispatch_partial_receipt_and_write_off(inventory: Inventory) -> None:
    md = inventory.md()
    src = await inventory.warehouse("560001", "KA")
    dst = await inventory.warehouse("421302", "MH")
    vid = inventory.variant()
    await inventory.stock(src, vid, 10)
    tr = await inventory.admin.CreateTransfer(
        admin_pb2.CreateTransferRequest(
            transfer=resources_pb2.Transfer(
                source_warehouse=src,
                destination_warehouse=dst,
                lines=[resources_pb2.TransferLine(variant_id=vid, quantity=6)],
            )
        ),
        metadata=md,
    )
    assert tr.state == TState.TRANSFER_STATE_REQUESTED
    assert (await inventory.avail(vid)).available == 10  # nothing moved yet

    tr = await inventory.admin.DispatchTransfer(
        admin_pb2.DispatchTransferRequest(name=tr.name), metadata=md
    )
    assert tr.state == TState.TRANSFER_STATE_DISPATCHED
    # In transit: gone from the source, not sellable anywhere.
    assert (await inventory.avail(vid)).available == 4
    assert (await inventory.level(dst, vid)).in_transit == 6

    tr = await inventory.admin.ReceiveTransfer(
        admin_pb2.ReceiveTransferRequest(
            name=tr.name, lines=[admin_pb2.ReceiveLine(variant_id=vid, quantity=4)]
        ),
        metadata=md,
    )
    assert tr.state == TState.TRANSFER_STATE_PARTIALLY_RECEIVED
    level = await inventory.level(dst, vid)
    assert (level.on_hand, level.in_transit) == (4, 2)
    assert (await inventory.avail(vid)).available == 8

    tr = await inventory.admin.ReceiveTransfer(
        admin_pb2.ReceiveTransferRequest(
            name=tr.name, lines=[admin_pb2.ReceiveLine(variant_id=vid, quantity=1)], close=True
        ),
        metadata=md,
    )
    assert tr.state == TState.TRANSFER_STATE_RECEIVED
    assert [(ln.received_quantity, ln.written_off_quantity) for ln in tr.lines] == [(5, 1)]
    level = await inventory.level(dst, vid)
    assert (level.on_hand, level.in_transit) == (5, 0)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.admin.CancelTransfer(
            admin_pb2.CancelTransferRequest(name=tr.name), metadata=md
        )
    assert reason(err.value) == "TRANSFER_STATE"


async def test_dispatch_needs_unreserved_stock(inventory: Inventory) -> None:
    md = inventory.md()
    src, dst = await inventory.warehouse(), await inventory.warehouse()
    vid = inventory.variant()
    await inventory.stock(src, vid, 3)
    await inventory.reserve([(vid, 2)])
    tr = await inventory.admin.CreateTransfer(
        admin_pb2.CreateTransferRequest(
            transfer=resources_pb2.Transfer(
                source_warehouse=src,
                destination_warehouse=dst,
                lines=[resources_pb2.TransferLine(variant_id=vid, quantity=2)],
            )
        ),
        metadata=md,
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.admin.DispatchTransfer(
            admin_pb2.DispatchTransferRequest(name=tr.name), metadata=md
        )
    assert reason(err.value) == "INSUFFICIENT_STOCK"
    assert (await inventory.level(src, vid)).on_hand == 3


async def test_csv_bulk_update_dry_run_errors_and_apply(inventory: Inventory) -> None:
    md = inventory.md()
    wh = await inventory.warehouse()
    wid = wh.split("/")[1]
    a, b = inventory.variant(), inventory.variant()
    bad = (
        "warehouse_id,variant_id,on_hand,reorder_point,backorder_allowed\n"
        f"{wid},{a},12,3,no\n"
        f"{wid},{b},lots,,\n"
        f"nowhere,{b},1,,\n"
        f"{wid},var_unknown_to_catalog,1,,maybe\n"
    ).encode()
    resp = await inventory.admin.ImportStockCsv(
        admin_pb2.ImportStockCsvRequest(csv=bad), metadata=md
    )
    assert not resp.applied
    assert [(e.line, e.column) for e in resp.errors] == [
        (3, "on_hand"),
        (4, "warehouse_id"),
        (5, "backorder_allowed"),
    ]
    good = (
        "warehouse_id,variant_id,on_hand,reorder_point,backorder_allowed,backorder_limit\n"
        f"{wid},{a},12,3,no,\n"
        f"{wid},{b},4,,yes,10\n"
    ).encode()
    dry = await inventory.admin.ImportStockCsv(
        admin_pb2.ImportStockCsvRequest(csv=good, dry_run=True), metadata=md
    )
    assert (dry.applied, list(dry.errors), dry.rows) == (False, [], 2)
    with pytest.raises(grpc.aio.AioRpcError):
        await inventory.level(wh, a)  # the dry run created nothing
    done = await inventory.admin.ImportStockCsv(
        admin_pb2.ImportStockCsvRequest(csv=good), metadata=md
    )
    assert (done.applied, done.created, done.updated) == (True, 2, 0)
    lb = await inventory.level(wh, b)
    assert (lb.on_hand, lb.backorder_allowed, lb.backorder_limit) == (4, True, 10)
    la = await inventory.level(wh, a)
    assert (la.on_hand, la.reorder_point) == (12, 3)
    # Unknown catalog variants are reported by line.
    unknown = f"warehouse_id,variant_id,on_hand\n{wid},var_unknown_to_catalog,1\n".encode()
    resp = await inventory.admin.ImportStockCsv(
        admin_pb2.ImportStockCsvRequest(csv=unknown), metadata=md
    )
    assert [(e.line, e.column) for e in resp.errors] == [(2, "variant_id")]


async def test_list_stock_levels_filters_and_pages(inventory: Inventory) -> None:
    md = inventory.md()
    wh = await inventory.warehouse()
    vids = sorted(inventory.variant() for _ in range(3))
    for i, v in enumerate(vids):
        await inventory.stock(wh, v, 10, reorder_point=10 if i == 1 else 0)
    page1 = await inventory.admin.ListStockLevels(
        admin_pb2.ListStockLevelsRequest(warehouse=wh, page_size=2), metadata=md
    )
    page2 = await inventory.admin.ListStockLevels(
        admin_pb2.ListStockLevelsRequest(
            warehouse=wh, page_size=2, page_token=page1.next_page_token
        ),
        metadata=md,
    )
    assert [s.variant_id for s in [*page1.stock_levels, *page2.stock_levels]] == vids
    assert not page2.next_page_token
    low = await inventory.admin.ListStockLevels(
        admin_pb2.ListStockLevelsRequest(warehouse=wh, low_stock_only=True), metadata=md
    )
    assert [(s.variant_id, s.low_stock) for s in low.stock_levels] == [(vids[1], True)]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.admin.ListStockLevels(
            admin_pb2.ListStockLevelsRequest(page_token=page1.next_page_token), metadata=md
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_warehouse_holding_stock_cannot_be_deleted(inventory: Inventory) -> None:
    wh = await inventory.warehouse()
    await inventory.stock(wh, inventory.variant(), 2)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await inventory.admin.DeleteWarehouse(
            admin_pb2.DeleteWarehouseRequest(name=wh), metadata=inventory.md()
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(err.value) == "WAREHOUSE_NOT_EMPTY"
