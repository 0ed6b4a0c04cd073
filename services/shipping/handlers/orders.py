"""The order.placed consumer: one shipment per warehouse the order ships from.

The payload is the order service's cleanse.order.v1.OrderPlacedEvent, read through
cleanse.shipping.v1.OrderPlacedShippingView (same field numbers; the fields shipping
needs beyond today's payload are empty until the order service fills them).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.common.v1 import events_pb2 as events_pb2_common
from cleanse.order.v1 import events_pb2 as order_events
from cleanse.shipping.v1 import events_pb2
from mesh.db import Database
from mesh.events import EventSink
from mesh.resources import parse_name
from services.shipping import convert
from services.shipping.config import Settings
from services.shipping.handlers.shipments import NewItem, NewShipment, ShipmentHandlers

ORDER_PLACED = "order.placed"


def read_view(payload: Any) -> events_pb2.OrderPlacedShippingView:
    return events_pb2.OrderPlacedShippingView.FromString(payload.SerializeToString())


def shipments_for(
    view: events_pb2.OrderPlacedShippingView, item_count: int, total_minor: int, settings: Settings
) -> list[NewShipment]:
    order_id = parse_name(view.order, "orders") or view.order
    address = convert.address_dict(view.delivery_address)
    for key in ("city", "state_code", "pincode"):
        if not address.get(key) and getattr(view, key):
            address[key] = getattr(view, key)
    if view.phone and not address.get("phone"):
        address["phone"] = view.phone
    groups: dict[str, list[NewItem]] = defaultdict(list)
    for ln in view.lines:
        wid = parse_name(ln.warehouse, "warehouses") or settings.default_warehouse
        groups[wid].append(
            NewItem(
                ln.variant_id,
                ln.sku,
                ln.title,
                ln.quantity,
                ln.unit_weight_grams or settings.default_unit_weight_grams,
            )
        )
    if not groups:  # today's payload: no lines, only a count
        groups[settings.default_warehouse].append(
            NewItem(
                "",
                "",
                f"{max(item_count, 1)} item(s)",
                max(item_count, 1),
                settings.default_unit_weight_grams,
            )
        )
    cod = view.payment_method.lower() == "cod"
    cod_total = view.cod_amount.amount_minor or total_minor
    out: list[NewShipment] = []
    for i, (wid, items) in enumerate(sorted(groups.items())):
        out.append(
            NewShipment(
                request_id=f"order:{order_id}:{wid}",
                order_id=order_id,
                order_number=view.order_number,
                direction="FORWARD",
                warehouse_id=wid,
                address=address,
                items=items,
                # All cash is collected with the first parcel.
                cod_amount_minor=cod_total if cod and i == 0 else 0,
                email=view.email,
            )
        )
    return out


SOURCE = "system:order.placed"


class OrderEvents:
    def __init__(self, shipments: ShipmentHandlers, settings: Settings) -> None:
        self.shipments = shipments
        self.settings = settings

    def plan(self, payload: Any) -> list[NewShipment]:
        return shipments_for(
            read_view(payload), payload.item_count, payload.total.amount_minor, self.settings
        )

    async def on_order_placed(self, session: AsyncSession, payload: Any, _event: Any) -> None:
        for new in self.plan(payload):
            await self.shipments.create_in(session, new, SOURCE)


class ShippingEventSink(EventSink):
    """`mesh.events.EventSink` with one short cut, same outcome: on PostgreSQL an
    "order.placed" is ONE statement in autocommit (`ShipmentHandlers.create_for_event`:
    the processed mark and every shipment with its items and history, each only if
    the event is new) instead of BEGIN, the mark, a statement per shipment and
    COMMIT. Whatever that does not fit (SQLite, a request id in use, an unusable
    carrier, a creation event a subscriber wants) goes the usual way, through
    `OrderEvents.on_order_placed` in the sink's transaction."""

    def __init__(self, db: Database, processed: Table, orders: OrderEvents) -> None:
        super().__init__(db, processed)
        self.orders = orders

    async def handle(self, event: events_pb2_common.Event) -> bool:
        if event.event_id and event.topic == ORDER_PLACED and self.db.dialect == "postgresql":
            payload = order_events.OrderPlacedEvent()
            if event.payload.Unpack(payload):
                done = await self.orders.shipments.create_for_event(
                    event, self.processed, self.orders.plan(payload), SOURCE
                )
                if done is not None:
                    return done
        return await super().handle(event)
