"""The gRPC face of the inventory service: protos in, handler calls, protos out.

The contract interceptor (mesh.interceptors) has already authenticated the caller,
enforced each RPC's access policy, checked REQUIRED fields and clamped page_size.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2

from cleanse.common.v1 import address_pb2
from cleanse.inventory.v1 import (
    availability_service_pb2_grpc,
    inventory_admin_service_pb2,
    inventory_admin_service_pb2_grpc,
    reservation_service_pb2,
    reservation_service_pb2_grpc,
    resources_pb2,
)
from mesh.timestamps import ts
from services.inventory.domain import stock as rules
from services.inventory.handlers.admin import AdminHandlers, TransferView
from services.inventory.handlers.reservations import ReservationHandlers, ReservationView
from services.inventory.models import Adjustment, Backorder, Stock, Warehouse

Ctx = grpc.aio.ServicerContext
admin_pb2 = inventory_admin_service_pb2


def warehouse_pb(w: Warehouse) -> resources_pb2.Warehouse:
    return resources_pb2.Warehouse(
        name=w.name,
        display_name=w.display_name,
        address=address_pb2.PostalAddress(
            recipient_name=w.recipient_name,
            phone=w.phone,
            line1=w.line1,
            line2=w.line2,
            landmark=w.landmark,
            city=w.city,
            state_code=w.state_code,
            pincode=w.pincode,
            country_code=w.country_code,
        ),
        active=w.active,
        create_time=ts(w.create_time),
        update_time=ts(w.update_time),
    )


def stock_pb(st: Stock) -> resources_pb2.StockLevel:
    avail = rules.available(st.on_hand, st.reserved, st.safety_stock)
    return resources_pb2.StockLevel(
        name=st.name,
        variant_id=st.variant_id,
        warehouse=f"warehouses/{st.warehouse_id}",
        on_hand=st.on_hand,
        reserved=st.reserved,
        available=avail,
        safety_stock=st.safety_stock,
        reorder_point=st.reorder_point,
        backorder_allowed=st.backorder_allowed,
        backorder_limit=st.backorder_limit,
        backordered=st.backordered,
        in_transit=st.in_transit,
        low_stock=rules.is_low(avail, st.reorder_point),
        update_time=ts(st.update_time),
    )


def adjustment_pb(a: Adjustment) -> resources_pb2.Adjustment:
    return resources_pb2.Adjustment(
        name=a.name,
        warehouse=f"warehouses/{a.warehouse_id}",
        variant_id=a.variant_id,
        delta=a.delta,
        reason=resources_pb2.AdjustmentReason.Value(f"ADJUSTMENT_REASON_{a.reason}"),
        note=a.note,
        actor=a.actor,
        on_hand_after=a.on_hand_after,
        reference=a.reference,
        create_time=ts(a.create_time),
    )


def transfer_pb(v: TransferView) -> resources_pb2.Transfer:
    t = v.transfer
    return resources_pb2.Transfer(
        name=t.name,
        source_warehouse=f"warehouses/{t.source_warehouse_id}",
        destination_warehouse=f"warehouses/{t.destination_warehouse_id}",
        state=resources_pb2.TransferState.Value(f"TRANSFER_STATE_{t.state}"),
        lines=[
            resources_pb2.TransferLine(
                variant_id=ln.variant_id,
                quantity=ln.quantity,
                received_quantity=ln.received_quantity,
                written_off_quantity=ln.written_off_quantity,
            )
            for ln in v.lines
        ],
        note=t.note,
        requested_by=t.requested_by,
        create_time=ts(t.create_time),
        dispatch_time=ts(t.dispatch_time),
        receive_time=ts(t.receive_time),
    )


def reservation_pb(v: ReservationView) -> resources_pb2.Reservation:
    r = v.reservation
    return resources_pb2.Reservation(
        name=r.name,
        request_id=r.request_id,
        state=resources_pb2.ReservationState.Value(f"RESERVATION_STATE_{r.state}"),
        lines=[
            resources_pb2.ReservationLine(
                variant_id=ln.variant_id,
                warehouse=f"warehouses/{ln.warehouse_id}",
                quantity=ln.quantity,
                backordered_quantity=ln.backordered_quantity,
            )
            for ln in v.lines
        ],
        delivery_pincode=r.delivery_pincode,
        expire_time=ts(r.expire_time),
        create_time=ts(r.create_time),
        shipment_count=len({ln.warehouse_id for ln in v.lines}),
    )


def backorder_pb(b: Backorder) -> resources_pb2.Backorder:
    return resources_pb2.Backorder(
        name=f"backorders/{b.id}",
        reservation=f"reservations/{b.reservation_id}",
        variant_id=b.variant_id,
        warehouse=f"warehouses/{b.warehouse_id}",
        quantity=b.quantity,
        allocated_quantity=b.allocated_quantity,
        state=resources_pb2.BackorderState.Value(f"BACKORDER_STATE_{b.state}"),
        create_time=ts(b.create_time),
    )


class AvailabilityService(availability_service_pb2_grpc.AvailabilityServiceServicer):
    def __init__(self, h: ReservationHandlers) -> None:
        self.h = h

    async def BatchGetAvailability(self, request: Any, context: Ctx) -> Any:
        return await self.h.availability(list(request.variant_ids))


class ReservationService(reservation_service_pb2_grpc.ReservationServiceServicer):
    def __init__(self, h: ReservationHandlers) -> None:
        self.h = h

    async def ReserveStock(self, request: Any, context: Ctx) -> Any:
        return reservation_pb(await self.h.reserve(request))

    async def CommitReservation(self, request: Any, context: Ctx) -> Any:
        return reservation_pb(await self.h.commit(request.name))

    async def ReleaseReservation(self, request: Any, context: Ctx) -> Any:
        return reservation_pb(await self.h.release(request.name))

    async def GetReservation(self, request: Any, context: Ctx) -> Any:
        return reservation_pb(await self.h.get(request.name))

    async def RestockReturn(
        self, request: Any, context: Ctx
    ) -> reservation_service_pb2.RestockReturnResponse:
        return await self.h.restock_return(request)


class InventoryAdminService(inventory_admin_service_pb2_grpc.InventoryAdminServiceServicer):
    def __init__(self, h: AdminHandlers) -> None:
        self.h = h

    async def ListWarehouses(self, request: Any, context: Ctx) -> Any:
        page = await self.h.list_warehouses(
            request.page_size, request.page_token, request.show_inactive
        )
        return admin_pb2.ListWarehousesResponse(
            warehouses=[warehouse_pb(w) for w in page.items],
            next_page_token=page.next_page_token,
        )

    async def GetWarehouse(self, request: Any, context: Ctx) -> Any:
        return warehouse_pb(await self.h.get_warehouse(request.name))

    async def CreateWarehouse(self, request: Any, context: Ctx) -> Any:
        return warehouse_pb(await self.h.create_warehouse(request.warehouse_id, request.warehouse))

    async def UpdateWarehouse(self, request: Any, context: Ctx) -> Any:
        return warehouse_pb(
            await self.h.update_warehouse(request.warehouse, list(request.update_mask.paths))
        )

    async def DeleteWarehouse(self, request: Any, context: Ctx) -> Any:
        await self.h.delete_warehouse(request.name)
        return empty_pb2.Empty()

    async def ListStockLevels(self, request: Any, context: Ctx) -> Any:
        page = await self.h.list_stock(
            request.page_size,
            request.page_token,
            request.variant_id,
            request.warehouse,
            request.low_stock_only,
        )
        return admin_pb2.ListStockLevelsResponse(
            stock_levels=[stock_pb(s) for s in page.items], next_page_token=page.next_page_token
        )

    async def ListLowStockItems(self, request: Any, context: Ctx) -> Any:
        page = await self.h.list_stock(
            request.page_size, request.page_token, "", request.warehouse, True
        )
        return admin_pb2.ListLowStockItemsResponse(
            stock_levels=[stock_pb(s) for s in page.items], next_page_token=page.next_page_token
        )

    async def GetStockLevel(self, request: Any, context: Ctx) -> Any:
        return stock_pb(await self.h.get_stock(request.name))

    async def SetStockLevel(self, request: Any, context: Ctx) -> Any:
        return stock_pb(await self.h.set_stock(request))

    async def AdjustStock(self, request: Any, context: Ctx) -> Any:
        st, adj, filled = await self.h.adjust(request)
        return admin_pb2.AdjustStockResponse(
            stock_level=stock_pb(st), adjustment=adjustment_pb(adj), allocated_to_backorders=filled
        )

    async def ListAdjustments(self, request: Any, context: Ctx) -> Any:
        page = await self.h.list_adjustments(
            request.page_size,
            request.page_token,
            request.warehouse,
            request.variant_id,
            request.reason,
        )
        return admin_pb2.ListAdjustmentsResponse(
            adjustments=[adjustment_pb(a) for a in page.items],
            next_page_token=page.next_page_token,
        )

    async def CreateTransfer(self, request: Any, context: Ctx) -> Any:
        return transfer_pb(await self.h.create_transfer(request.transfer))

    async def GetTransfer(self, request: Any, context: Ctx) -> Any:
        return transfer_pb(await self.h.get_transfer(request.name))

    async def ListTransfers(self, request: Any, context: Ctx) -> Any:
        page = await self.h.list_transfers(request.page_size, request.page_token, request.state)
        return admin_pb2.ListTransfersResponse(
            transfers=[transfer_pb(v) for v in page.items], next_page_token=page.next_page_token
        )

    async def DispatchTransfer(self, request: Any, context: Ctx) -> Any:
        return transfer_pb(await self.h.dispatch_transfer(request.name))

    async def ReceiveTransfer(self, request: Any, context: Ctx) -> Any:
        return transfer_pb(await self.h.receive_transfer(request))

    async def CancelTransfer(self, request: Any, context: Ctx) -> Any:
        return transfer_pb(await self.h.cancel_transfer(request.name))

    async def ListBackorders(self, request: Any, context: Ctx) -> Any:
        page = await self.h.list_backorders(
            request.page_size, request.page_token, request.variant_id, request.state
        )
        return admin_pb2.ListBackordersResponse(
            backorders=[backorder_pb(b) for b in page.items], next_page_token=page.next_page_token
        )

    async def ImportStockCsv(self, request: Any, context: Ctx) -> Any:
        return await self.h.import_csv(request.csv, request.dry_run)
