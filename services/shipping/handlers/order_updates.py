"""The order.updated consumer: an admin edited a confirmed order before it was packed
(quantities, lines, delivery address).

The payload is the order service's cleanse.order.v1.OrderUpdatedEvent: the whole
order after the edit in the shape of order.placed (fields 1-16, read through the
same OrderPlacedShippingView and turned into the shipments the order would get now
by `orders.shipments_for`, one per warehouse) plus the edit's `revision`. Then, for
each forward shipment of the order (rows locked):

- not booked yet (CREATED, no AWB): its items, address, weight and COD amount become
  the new ones, and a new PIN code gets the carrier new shipments to it would get
  (kept when none is active there); its `version` moves on. A booking handed to the
  booker in memory before the edit is dropped; the booker's sweep books the shipment
  from the table. A booking already in flight (the carrier being called) is not
  recorded when it comes back: its version is not the shipment's any more, so it is
  cancelled with the carrier and the shipment booked again as it is now
  (ShipmentHandlers._book_once, README "A booking never records a parcel ...");
- booked (an AWB) or on its way, or cancelled: nothing changes (the carrier has the
  old parcel); when the edit changes what it should carry, a history row
  "NEEDS ATTENTION: order edited after booking: ..." names the differences for an
  admin to change or cancel the booking by hand, with a warning in the log and
  `shipment_order_updates_total{outcome="needs_attention"}`;
- a warehouse the order no longer ships from, or a new one, needs attention too
  (shipments are neither created nor cancelled here).

Each forward shipment of the order gets a history row with the source
`system:order.updated#<revision>`; an event whose revision is not newer than the
last one applied (two edits delivered out of order) changes nothing. An event for an
order with no shipment yet (its order.placed not delivered yet: the relay delivers
concurrently) fails with FAILED_PRECONDITION ORDER_PLACED_NOT_RECEIVED, so the
relay delivers it again later. Idempotent on the event id (EventSink).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import new_id, utcnow
from mesh.errors import FailedPrecondition, InvalidArgument
from mesh.resources import parse_name
from observability.metrics import counter
from services.shipping.config import Settings
from services.shipping.handlers.orders import read_view, shipments_for
from services.shipping.handlers.shipments import NewShipment, ShipmentHandlers
from services.shipping.models import Shipment, ShipmentItem, StatusChange

log = logging.getLogger("services.shipping")
ORDER_UPDATED = "order.updated"
SOURCE = "system:order.updated"
UPDATES = counter(
    "shipment_order_updates_total",
    "Shipments told about an order edit, by outcome.",
    ["outcome"],
)


def _revision_of(source: str) -> int:
    _, _, rev = source.partition("#")
    return int(rev) if rev.isdigit() else 0


def _rupees(minor: int) -> str:
    return f"Rs {minor // 100}.{minor % 100:02d}"


def differences(shipment: Shipment, items: list[ShipmentItem], target: NewShipment) -> list[str]:
    """What the edit changes for this parcel, in words ([] when nothing)."""
    out: list[str] = []
    have = sorted((i.variant_id or i.sku or i.title, i.quantity) for i in items)
    want = sorted((i.variant_id or i.sku or i.title, i.quantity) for i in target.items)
    if have != want:
        out.append(
            "items "
            + ", ".join(f"{v} x{q}" for v, q in have)
            + " -> "
            + ", ".join(f"{v} x{q}" for v, q in want)
        )
    if dict(shipment.address) != target.address:
        out.append(
            f"address -> {target.address.get('line1', '')}, {target.address.get('city', '')} "
            f"{target.address.get('pincode', '')}".strip()
        )
    if shipment.cod_amount_minor != target.cod_amount_minor:
        out.append(
            f"COD {_rupees(shipment.cod_amount_minor)} -> {_rupees(target.cod_amount_minor)}"
        )
    return out


class OrderUpdates:
    def __init__(self, shipments: ShipmentHandlers, settings: Settings) -> None:
        self.shipments = shipments
        self.settings = settings

    async def on_order_updated(self, s: AsyncSession, payload: Any, _event: Any) -> None:
        view = read_view(payload)
        order_id = parse_name(view.order, "orders") or view.order
        revision = int(payload.revision)
        rows = list(
            (
                await s.scalars(
                    select(Shipment)
                    .where(Shipment.order_id == order_id, Shipment.direction == "FORWARD")
                    .order_by(Shipment.id)
                    .with_for_update()
                )
            ).all()
        )
        if not rows:
            raise FailedPrecondition(
                f"no shipment for {view.order} yet: order.placed first",
                reason="ORDER_PLACED_NOT_RECEIVED",
                metadata={"order": view.order},
            )
        ids = [r.id for r in rows]
        sources = (
            await s.scalars(
                select(StatusChange.source).where(
                    StatusChange.shipment_id.in_(ids),
                    StatusChange.source.like(f"{SOURCE}#%"),
                )
            )
        ).all()
        last = max((_revision_of(x) for x in sources), default=0)
        if revision <= last:
            UPDATES.labels("stale").inc()
            log.info(
                "order.updated older than the last applied: ignored",
                extra={"order": order_id, "revision": revision, "applied": last},
            )
            return
        targets = {
            t.warehouse_id: t
            for t in shipments_for(
                view, payload.item_count, payload.total.amount_minor, self.settings
            )
        }
        source = f"{SOURCE}#{revision}"
        now = utcnow()
        seen: set[str] = set()
        for row in rows:
            seen.add(row.warehouse_id)
            items = list(
                (
                    await s.scalars(select(ShipmentItem).where(ShipmentItem.shipment_id == row.id))
                ).all()
            )
            target = targets.get(row.warehouse_id)
            if target is None:
                changes = [f"the order no longer ships anything from {row.warehouse_id}"]
            else:
                changes = differences(row, items, target)
            open_ = row.status == "CREATED" and not row.awb
            if not changes:
                outcome, note = "unchanged", f"order edited (revision {revision}): no change here"
            elif open_ and target is not None:
                changes += await self._apply(s, row, target, now)
                outcome = "updated"
                note = f"order edited (revision {revision}): " + "; ".join(changes)
            else:
                outcome = "needs_attention"
                note = (
                    f"NEEDS ATTENTION: order edited after booking (revision {revision}): "
                    + "; ".join(changes)
                    + "; change or cancel the carrier booking by hand"
                )
                log.warning(
                    "order edited after its shipment was booked",
                    extra={"shipment": row.id, "order": order_id, "changes": changes},
                )
            UPDATES.labels(outcome).inc()
            s.add(
                StatusChange(
                    id=new_id(),
                    shipment_id=row.id,
                    from_status=row.status,
                    to_status=row.status,
                    source=source,
                    note=note[:500],
                    location="",
                    applied=True,
                    time=now,
                )
            )
        for wid in sorted(set(targets) - seen):
            UPDATES.labels("needs_attention").inc()
            what = ", ".join(f"{i.variant_id or i.title} x{i.quantity}" for i in targets[wid].items)
            log.warning(
                "order edited: items from a warehouse with no shipment",
                extra={"order": order_id, "warehouse": wid},
            )
            s.add(
                StatusChange(
                    id=new_id(),
                    shipment_id=rows[0].id,
                    from_status=rows[0].status,
                    to_status=rows[0].status,
                    source=source,
                    note=(
                        f"NEEDS ATTENTION: order edited (revision {revision}): {what} now ship "
                        f"from {wid}, which has no shipment; create one by hand"
                    )[:500],
                    location="",
                    applied=True,
                    time=now,
                )
            )

    async def _apply(
        self, s: AsyncSession, row: Shipment, target: NewShipment, now: Any
    ) -> list[str]:
        """The not yet booked shipment becomes what the order is now; notes on the
        carrier."""
        self.shipments.forget_booking(row.id)
        notes: list[str] = []
        pincode = target.address.get("pincode", "")
        if pincode != row.address.get("pincode", ""):
            try:
                carrier = await self.shipments.carrier_for(pincode, "", row.method_kind)
            except InvalidArgument:
                notes.append(f"no active carrier for {pincode}: carrier {row.carrier_id} kept")
            else:
                if carrier.id != row.carrier_id:
                    notes.append(f"carrier {row.carrier_id} -> {carrier.id}")
                    row.carrier_id = carrier.id
        await s.execute(delete(ShipmentItem).where(ShipmentItem.shipment_id == row.id))
        s.add_all(
            ShipmentItem(
                id=new_id(),
                shipment_id=row.id,
                variant_id=i.variant_id,
                sku=i.sku,
                title=i.title,
                quantity=i.quantity,
                unit_weight_grams=i.unit_weight_grams,
            )
            for i in target.items
        )
        row.address = dict(target.address)
        row.email = target.email or row.email
        row.cod_amount_minor = target.cod_amount_minor
        row.weight_grams = sum(i.unit_weight_grams * i.quantity for i in target.items)
        row.version = (row.version or 0) + 1  # a booking in flight now goes stale
        row.update_time = now
        return notes
