"""Shipments: created from order.placed, by admins or as return pickups; booked with
carriers; moved along their status timeline by signed webhooks and admins. Every
change writes "shipment.status_changed" to the outbox in the same transaction."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.shipping.v1 import events_pb2
from cleanse.shipping.v1 import resources_pb2 as pb
from mesh.db import Database, next_page_token, page_after, utcnow
from mesh.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from mesh.outbox import Outbox
from mesh.resources import require_name
from services.shipping import convert
from services.shipping.carriers.base import (
    CarrierAdapter,
    CarrierError,
    ManualCarrier,
    Parcel,
    ParcelItem,
    Party,
    signature_valid,
)
from services.shipping.domain import rules
from services.shipping.label import LabelData, render_label
from services.shipping.models import Carrier, Serviceability, Shipment, ShipmentItem, StatusChange
from services.shipping.secrets import SecretBox

log = logging.getLogger("services.shipping")
STATUS_CHANGED = "shipment.status_changed"
MAX_BOOKING_ATTEMPTS = 10

# Where a parcel leaves from / returns to, by warehouse id (inventory owns the
# warehouses; the label needs an address): demo warehouses plus configuration.
Warehouses = Callable[[str], Mapping[str, str]]


@dataclass(frozen=True)
class NewItem:
    variant_id: str
    sku: str
    title: str
    quantity: int
    unit_weight_grams: int


@dataclass
class NewShipment:
    request_id: str
    order_id: str
    order_number: str
    direction: str  # FORWARD | RETURN
    warehouse_id: str
    address: dict[str, str]
    items: list[NewItem]
    carrier_id: str = ""
    method_kind: str = "STANDARD"
    cod_amount_minor: int = 0
    awb: str = ""
    email: str = ""
    return_request: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def body_hash(self) -> str:
        key = repr(
            (
                self.order_id,
                self.direction,
                self.warehouse_id,
                sorted(self.address.items()),
                [(i.variant_id, i.quantity) for i in self.items],
                self.carrier_id,
                self.cod_amount_minor,
                self.return_request,
            )
        )
        return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class ShipmentView:
    shipment: Shipment
    items: list[ShipmentItem]
    history: list[StatusChange]
    carrier: Carrier | None

    def proto(self) -> pb.Shipment:
        return convert.shipment_pb(self.shipment, self.items, self.history, self.carrier)


class ShipmentHandlers:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        box: SecretBox,
        adapters: Mapping[str, CarrierAdapter],
        warehouses: Warehouses,
        default_carrier: str,
        route: Callable[[str, str], Awaitable[str]] | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.box = box
        self.adapters = dict(adapters)
        self.warehouses = warehouses
        self.default_carrier = default_carrier
        self.route = route

    def adapter(self, carrier: Carrier) -> CarrierAdapter:
        return self.adapters.get(carrier.kind) or ManualCarrier()

    # --- reads -----------------------------------------------------------------------

    async def view(self, s: AsyncSession, shipment_id: str) -> ShipmentView:
        row = await s.get(Shipment, shipment_id)
        if row is None:
            raise NotFound(f"shipments/{shipment_id} not found")
        items = (
            await s.scalars(select(ShipmentItem).where(ShipmentItem.shipment_id == row.id))
        ).all()
        history = (
            await s.scalars(
                select(StatusChange)
                .where(StatusChange.shipment_id == row.id)
                .order_by(StatusChange.time, StatusChange.id)
            )
        ).all()
        return ShipmentView(row, list(items), list(history), await s.get(Carrier, row.carrier_id))

    async def get(self, name: str) -> ShipmentView:
        sid = require_name(name, "shipments")
        async with self.db.session() as s:
            return await self.view(s, sid)

    async def list(
        self, size: int, token: str, order: str, status: str, direction: str
    ) -> tuple[list[ShipmentView], str]:
        order_id = require_name(order, "orders", "order") if order else ""
        filters = {"order": order_id, "status": status, "direction": direction}
        after = page_after(token, filters)
        async with self.db.session() as s:
            q = select(Shipment.id).order_by(Shipment.id.desc())
            if after:
                q = q.where(Shipment.id < after)
            if order_id:
                q = q.where(Shipment.order_id == order_id)
            if status:
                q = q.where(Shipment.status == status)
            if direction:
                q = q.where(Shipment.direction == direction)
            ids = list((await s.scalars(q.limit(size + 1))).all())
            views = [await self.view(s, i) for i in ids[:size]]
        return views, next_page_token(ids, size, filters, key=lambda i: i)

    async def for_order(self, order: str) -> list[ShipmentView]:
        order_id = require_name(order, "orders", "order")
        async with self.db.session() as s:
            ids = (
                await s.scalars(
                    select(Shipment.id).where(Shipment.order_id == order_id).order_by(Shipment.id)
                )
            ).all()
            return [await self.view(s, i) for i in ids]

    async def label(self, name: str) -> bytes:
        sid = require_name(name, "shipments")
        async with self.db.session() as s:
            row = await s.get(Shipment, sid)
        if row is None:
            raise NotFound(f"{name} not found")
        if row.label_pdf is None:
            raise NotFound(f"{name} has no label yet (no AWB)", reason="LABEL_NOT_READY")
        return row.label_pdf

    # --- creation --------------------------------------------------------------------

    async def carrier_for(
        self, s: AsyncSession, pincode: str, wanted: str, kind: str = "STANDARD"
    ) -> Carrier:
        """`wanted`, else the PIN's carrier, else the zone method's, else the default."""
        cid = wanted
        if not cid:
            pin = await s.get(Serviceability, pincode)
            cid = pin.carrier_id if pin else None
        if not cid and self.route is not None:
            cid = await self.route(pincode, kind)
        cid = cid or self.default_carrier
        carrier = await s.get(Carrier, cid)
        if carrier is None or not carrier.active:
            raise InvalidArgument({"carrier": f"carriers/{cid} does not exist or is inactive"})
        return carrier

    async def create_in(self, s: AsyncSession, new: NewShipment, source: str) -> Shipment:
        """Create (or return the existing one for the same request id) in `s`."""
        existing = (
            await s.scalars(select(Shipment).where(Shipment.request_id == new.request_id))
        ).first()
        if existing is not None:
            if existing.body_hash != new.body_hash():
                raise AlreadyExists(
                    f"request_id {new.request_id!r} was used for another shipment",
                    reason="IDEMPOTENCY_KEY_REUSED",
                )
            return existing
        carrier = await self.carrier_for(
            s, new.address.get("pincode", ""), new.carrier_id, new.method_kind
        )
        if new.awb and carrier.kind != "MANUAL":
            raise InvalidArgument({"awb": "only the manual carrier takes an AWB from an admin"})
        now = utcnow()
        row = Shipment(
            request_id=new.request_id,
            body_hash=new.body_hash(),
            order_id=new.order_id,
            order_number=new.order_number,
            direction=new.direction,
            return_request=new.return_request,
            warehouse_id=new.warehouse_id,
            carrier_id=carrier.id,
            method_kind=new.method_kind or "STANDARD",
            awb=new.awb or None,
            status="CREATED",
            address=new.address,
            email=new.email,
            weight_grams=sum(i.unit_weight_grams * i.quantity for i in new.items),
            cod_amount_minor=new.cod_amount_minor,
            create_time=now,
            update_time=now,
        )
        s.add(row)
        await s.flush()
        for i in new.items:
            s.add(
                ShipmentItem(
                    shipment_id=row.id,
                    variant_id=i.variant_id,
                    sku=i.sku,
                    title=i.title,
                    quantity=i.quantity,
                    unit_weight_grams=i.unit_weight_grams,
                )
            )
        if row.awb:
            row.label_pdf = self._render(row, new.items, carrier)
        await self._record(s, row, carrier, "", "CREATED", source, note="shipment created")
        return row

    async def create(self, new: NewShipment, source: str) -> ShipmentView:
        try:
            async with self.db.transaction() as s:
                row = await self.create_in(s, new, source)
                sid = row.id
        except IntegrityError:
            raise AlreadyExists(
                f"AWB {new.awb} is already used by another shipment", reason="AWB_IN_USE"
            ) from None
        async with self.db.session() as s:
            return await self.view(s, sid)

    # --- AWBs, labels, booking -------------------------------------------------------

    def _render(self, row: Shipment, items: Sequence[Any], carrier: Carrier) -> bytes:
        origin = dict(self.warehouses(row.warehouse_id))
        ship_to, ship_from = (row.address, origin)
        if row.direction == "RETURN":
            ship_to, ship_from = origin, row.address
        return render_label(
            LabelData(
                awb=row.awb or "",
                carrier=carrier.display_name,
                order_number=row.order_number or row.order_id,
                ship_to=ship_to,
                ship_from=ship_from,
                items=[(i.title or i.sku or i.variant_id, i.quantity) for i in items],
                weight_grams=row.weight_grams,
                cod_amount_minor=row.cod_amount_minor,
                is_return=row.direction == "RETURN",
            )
        )

    async def assign_awb(self, name: str, awb: str) -> ShipmentView:
        sid = require_name(name, "shipments")
        if not awb:
            await self.book(sid)
            return await self.get(name)
        if not awb.isascii() or not awb.replace("-", "").isalnum() or len(awb) > 40:
            raise InvalidArgument({"awb": "letters, digits and hyphens, at most 40"})
        try:
            async with self.db.transaction() as s:
                view = await self.view(s, sid)
                row = view.shipment
                if row.awb:
                    raise FailedPrecondition(
                        f"{name} already has AWB {row.awb}", reason="AWB_ALREADY_SET"
                    )
                if view.carrier is None or view.carrier.kind != "MANUAL":
                    raise FailedPrecondition(
                        "this carrier assigns AWBs itself: send no awb to book",
                        reason="CARRIER_ASSIGNS_AWB",
                    )
                row.awb = awb
                row.label_pdf = self._render(row, view.items, view.carrier)
                row.update_time = utcnow()
                await s.flush()
        except IntegrityError:
            raise AlreadyExists(f"AWB {awb} is already used", reason="AWB_IN_USE") from None
        return await self.get(name)

    async def book(self, shipment_id: str) -> bool:
        """Book an AWB with the shipment's carrier (no transaction open during the call).
        True when booked now."""
        async with self.db.session() as s:
            view = await self.view(s, shipment_id)
        row, carrier = view.shipment, view.carrier
        if row.awb or carrier is None:
            return False
        adapter = self.adapter(carrier)
        if not adapter.books_automatically:
            raise FailedPrecondition("enter the AWB for the manual carrier", reason="AWB_REQUIRED")
        origin = self.warehouses(row.warehouse_id)
        customer = _party(row.address, row.email)
        wh = _party(origin, "")
        parcel = Parcel(
            reference=row.id,
            order_number=row.order_number,
            pickup=customer if row.direction == "RETURN" else wh,
            deliver_to=wh if row.direction == "RETURN" else customer,
            items=tuple(ParcelItem(i.sku or i.variant_id, i.title, i.quantity) for i in view.items),
            weight_grams=row.weight_grams,
            cod_amount_minor=row.cod_amount_minor,
            is_return=row.direction == "RETURN",
        )
        try:
            booking = await adapter.book(parcel)
        except CarrierError as exc:
            async with self.db.transaction() as s:
                r = await s.get(Shipment, shipment_id)
                assert r is not None
                r.booking_attempts += 1
                r.booking_error = str(exc)[:500]
            log.warning(
                "carrier booking failed", extra={"shipment": shipment_id, "error": str(exc)}
            )
            return False
        async with self.db.transaction() as s:
            r = await s.get(Shipment, shipment_id, with_for_update=True)
            assert r is not None
            if r.awb:
                return False
            r.awb = booking.awb
            r.carrier_shipment_id = booking.carrier_shipment_id
            r.booking_error = ""
            r.label_pdf = self._render(r, view.items, carrier)
            r.update_time = utcnow()
            await self._record(
                s,
                r,
                carrier,
                r.status,
                r.status,
                "carrier",
                note=f"AWB {booking.awb} assigned",
                event_only=True,
            )
        return True

    async def book_pending(self) -> int:
        """Book every shipment still waiting for an aggregator AWB; the number booked."""
        async with self.db.session() as s:
            ids = (
                await s.scalars(
                    select(Shipment.id)
                    .join(Carrier, Carrier.id == Shipment.carrier_id)
                    .where(
                        Shipment.awb.is_(None),
                        Shipment.status == "CREATED",
                        Carrier.kind == "AGGREGATOR",
                        Shipment.booking_attempts < MAX_BOOKING_ATTEMPTS,
                    )
                    .order_by(Shipment.id)
                    .limit(50)
                )
            ).all()
        booked = 0
        for sid in ids:
            booked += await self.book(sid)
        return booked

    # --- status ----------------------------------------------------------------------

    async def _record(
        self,
        s: AsyncSession,
        row: Shipment,
        carrier: Carrier | None,
        from_status: str,
        to_status: str,
        source: str,
        *,
        note: str = "",
        location: str = "",
        carrier_event_id: str | None = None,
        event_only: bool = False,
    ) -> None:
        if not event_only:
            s.add(
                StatusChange(
                    shipment_id=row.id,
                    from_status=from_status,
                    to_status=to_status,
                    source=source,
                    note=note[:500],
                    location=location[:200],
                    carrier_id=row.carrier_id if carrier_event_id else None,
                    carrier_event_id=carrier_event_id,
                    time=utcnow(),
                )
            )
        await self.outbox.add(
            s,
            STATUS_CHANGED,
            events_pb2.ShipmentStatusChangedEvent(
                shipment=row.name,
                order=f"orders/{row.order_id}",
                order_number=row.order_number,
                direction=pb.ShipmentDirection.Value(f"SHIPMENT_DIRECTION_{row.direction}"),
                return_request=row.return_request,
                previous_status=convert.status_pb(from_status),
                status=convert.status_pb(to_status),
                carrier=f"carriers/{row.carrier_id}",
                awb=row.awb or "",
                tracking_url=convert.tracking_url(
                    carrier.tracking_url_template if carrier else "", row.awb
                ),
                recipient_name=row.address.get("recipient_name", ""),
                phone=row.address.get("phone", ""),
                email=row.email,
                note=note,
            ),
        )

    async def update_status(
        self, name: str, target: str, note: str, location: str, actor: str
    ) -> ShipmentView:
        sid = require_name(name, "shipments")
        if target not in rules.STATUSES:
            raise InvalidArgument({"status": "is required"})
        async with self.db.transaction() as s:
            row = await s.get(Shipment, sid, with_for_update=True)
            if row is None:
                raise NotFound(f"{name} not found")
            if not rules.can_move(row.status, target):
                raise FailedPrecondition(
                    f"a {row.status} shipment cannot become {target}",
                    reason="ILLEGAL_STATUS_TRANSITION",
                    metadata={"from": row.status, "to": target},
                )
            if target != "CANCELLED" and target != "CREATED" and not row.awb:
                raise FailedPrecondition(f"{name} has no AWB yet", reason="AWB_REQUIRED")
            carrier = await s.get(Carrier, row.carrier_id)
            previous, row.status, row.update_time = row.status, target, utcnow()
            await self._record(
                s, row, carrier, previous, target, f"admin:{actor}", note=note, location=location
            )
        return await self.get(name)

    async def receive_webhook(
        self, carrier_id: str, raw: bytes, signature: str, event_id: str
    ) -> str:
        """Verify, dedupe, apply. Returns "applied", "duplicate" or "ignored"."""
        async with self.db.session() as s:
            carrier = await s.get(Carrier, carrier_id)
        secret = self.box.open(carrier.webhook_secret_encrypted) if carrier else ""
        if carrier is None or not signature_valid(secret, raw, signature):
            raise Unauthenticated("webhook signature invalid", reason="WEBHOOK_SIGNATURE_INVALID")
        try:
            update = self.adapter(carrier).parse_webhook(raw, event_id)
        except CarrierError as exc:
            raise InvalidArgument({"body": str(exc)}) from None
        if not update.event_id:
            raise InvalidArgument({"x-carrier-event-id": "is required"})
        try:
            async with self.db.transaction() as s:
                seen = await s.scalars(
                    select(StatusChange.id).where(
                        StatusChange.carrier_id == carrier.id,
                        StatusChange.carrier_event_id == update.event_id,
                    )
                )
                if seen.first() is not None:
                    return "duplicate"
                row = (
                    await s.scalars(
                        select(Shipment)
                        .where(Shipment.carrier_id == carrier.id, Shipment.awb == update.awb)
                        .with_for_update()
                    )
                ).first()
                if row is None:
                    raise NotFound(f"no shipment with AWB {update.awb}", reason="UNKNOWN_AWB")
                previous = row.status
                if not rules.can_move(previous, update.status):
                    s.add(
                        StatusChange(
                            shipment_id=row.id,
                            from_status=previous,
                            to_status=update.status,
                            source="carrier",
                            note=f"ignored: {update.note}"[:500],
                            location=update.location[:200],
                            carrier_id=carrier.id,
                            carrier_event_id=update.event_id,
                            applied=False,
                            time=utcnow(),
                        )
                    )
                    return "ignored"
                row.status, row.update_time = update.status, utcnow()
                await self._record(
                    s,
                    row,
                    carrier,
                    previous,
                    update.status,
                    "carrier",
                    note=update.note,
                    location=update.location,
                    carrier_event_id=update.event_id,
                )
        except IntegrityError:  # the same event id raced in concurrently
            return "duplicate"
        return "applied"


def _party(a: Mapping[str, str], email: str) -> Party:
    return Party(
        name=a.get("recipient_name", ""),
        phone=a.get("phone", ""),
        line1=a.get("line1", ""),
        line2=a.get("line2", ""),
        city=a.get("city", ""),
        state_code=a.get("state_code", ""),
        pincode=a.get("pincode", ""),
        email=email,
    )
