"""Shipments: created from order.placed, by admins or as return pickups; booked with
carriers; moved along their status timeline by signed webhooks and admins. Every
change writes "shipment.status_changed" to the outbox in the same transaction (for
the subscribers that want it: a forward shipment's creation is filtered out for all,
mesh.events).

A new shipment is written with as few statements as the database allows (on
PostgreSQL one: the shipment, its items and its first history row in a single
INSERT ... WITH; for an order.placed event, the event's processed mark and all its
shipments in one, `create_for_event`), and, when its carrier books automatically,
handed to the booker in memory once its transaction commits: the booker wakes at
once and books it from what was written, without reading it back. A sweep every
`booking_interval_seconds` books whatever that missed (retries, a restart, another
replica's shipments).
A booker claims the shipment before it calls the carrier (one conditional UPDATE:
a claim token and a lease), so only one booking call is in flight per shipment
across replicas, the sweep and admins; a lapsed lease (its booker died) is taken
over by the sweep. A booking's AWB is recorded only if the shipment is still the one
booked (one conditional UPDATE on its `version`, which also lets go of the claim); a
booking that went stale while the carrier was called (an order edit changed the
shipment) is cancelled and made again.
Labels are rendered when first asked for, not at booking."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    case,
    event,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.shipping.v1 import events_pb2
from cleanse.shipping.v1 import resources_pb2 as pb
from mesh.db import Database, new_id, next_page_token, page_after, utcnow
from mesh.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from mesh.outbox import Outbox
from mesh.resources import require_name
from observability.metrics import counter
from services.shipping import convert
from services.shipping.cache import CarrierInfo, ConfigCache
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
from services.shipping.models import Carrier, Shipment, ShipmentItem, StatusChange
from services.shipping.secrets import SecretBox

log = logging.getLogger("services.shipping")
STATUS_CHANGED = "shipment.status_changed"
MAX_BOOKING_ATTEMPTS = 10
# A booking that went stale while it was made (the shipment changed) is cancelled and
# made again at once, at most this many times in a row (then the sweep books it).
MAX_REBOOKS = 3
STALE_BOOKING_SOURCE = "system:booking"
BOOKINGS_STALE = counter(
    "shipment_bookings_stale_total",
    "Carrier bookings cancelled because the shipment changed while they were made.",
)
# Shipments handed to the booker and not booked yet, at most (the sweep finds the rest).
MAX_QUEUED = 1000
_NEW_BOOKINGS = "shipping.new_bookings"  # session.info key: jobs waiting for the commit

S = Shipment.__table__
ITEMS = ShipmentItem.__table__
HISTORY = StatusChange.__table__
ITEM_COLUMNS = ("id", "variant_id", "sku", "title", "quantity", "unit_weight_grams")
HISTORY_COLUMNS = (
    "id",
    "from_status",
    "to_status",
    "source",
    "note",
    "location",
    "carrier_id",
    "carrier_event_id",
    "applied",
    "time",
)

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


def _shipment_ctes(item_count: int, p: str, after: Any = None) -> tuple[Any, tuple[Any, ...]]:
    """PostgreSQL: the CTE inserting a shipment (bound parameters {p}s_<column>) and
    the CTEs inserting its items ({p}i<n>_<column>) and first history row
    ({p}h_<column>), each only if the shipment was inserted. Without `after`: nothing
    on a request-id conflict. With `after` (a CTE): one shipment per row of it (0 or
    1), and a request-id conflict is an error (the whole statement fails)."""
    binds = [bindparam(f"{p}s_{c.name}", type_=c.type) for c in S.columns]
    if after is None:
        insert_shipment = (
            postgresql.insert(S)
            .values(dict(zip((c.name for c in S.columns), binds, strict=True)))
            .on_conflict_do_nothing(index_elements=[S.c.request_id])
        )
    else:
        insert_shipment = insert(S).from_select(
            [c.name for c in S.columns], select(*binds).select_from(after)
        )
    shipment = insert_shipment.returning(S.c.id).cte(f"{p}new_shipment")
    ctes: list[Any] = []
    if item_count:
        rows = [
            select(
                *(bindparam(f"{p}i{n}_{c}", type_=ITEMS.c[c].type) for c in ITEM_COLUMNS),
                shipment.c.id,
            ).select_from(shipment)
            for n in range(item_count)
        ]
        ctes.append(
            insert(ITEMS)
            .from_select(
                [*ITEM_COLUMNS, "shipment_id"], rows[0] if item_count == 1 else union_all(*rows)
            )
            .cte(f"{p}new_items")
        )
    history = select(
        *(bindparam(f"{p}h_{c}", type_=HISTORY.c[c].type) for c in HISTORY_COLUMNS),
        shipment.c.id,
    ).select_from(shipment)
    ctes.append(
        insert(HISTORY)
        .from_select([*HISTORY_COLUMNS, "shipment_id"], history)
        .cte(f"{p}new_history")
    )
    return shipment, tuple(ctes)


def _shipment_params(
    p: str,
    fields: Mapping[str, Any],
    item_rows: Sequence[tuple[Any, ...]],
    history: Mapping[str, Any],
) -> dict[str, Any]:
    params = {f"{p}s_{k}": v for k, v in fields.items()}
    params.update({f"{p}h_{k}": history[k] for k in HISTORY_COLUMNS})
    for n, r in enumerate(item_rows):
        params.update({f"{p}i{n}_{c}": x for c, x in zip(ITEM_COLUMNS, r, strict=True)})
    return params


@functools.lru_cache(maxsize=32)
def _pg_create(item_count: int) -> Select[Any]:
    """PostgreSQL: a shipment (nothing on a request-id conflict), then its items and its
    first history row only if it was inserted, in one statement; bound parameters
    s_<column>, i<n>_<column>, h_<column>. Built once per item count, so SQLAlchemy
    compiles it once."""
    shipment, ctes = _shipment_ctes(item_count, "")
    return select(shipment.c.id).add_cte(*ctes)


@functools.lru_cache(maxsize=32)
def _pg_create_for_event(processed: Table, shapes: tuple[int, ...]) -> Select[Any]:
    """PostgreSQL: an event's processed mark (e_<column>) and its shipments (one per
    entry of `shapes`, its item count; parameters prefixed k<n>_) in ONE statement.
    The mark is written only if it is new and no shipment with one of the request
    ids exists; each shipment, its items and history only if the mark was written.
    Answers (marked: 0/1, made: shipments inserted, seen: the event was marked
    before, taken: a request id was in use), the last two as of the statement's
    start. A request id taken concurrently fails the statement (unique key):
    nothing written."""
    request_ids = [
        bindparam(f"k{k}_s_request_id", type_=S.c.request_id.type) for k in range(len(shapes))
    ]
    taken = select(S.c.id).where(S.c.request_id.in_(request_ids)).exists()
    mark_values = select(
        *(
            bindparam(f"e_{c}", type_=processed.c[c].type)
            for c in ("event_id", "topic", "source", "processed_at")
        )
    ).where(~taken)
    mark = (
        postgresql.insert(processed)
        .from_select(["event_id", "topic", "source", "processed_at"], mark_values)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(processed.c.event_id)
        .cte("processed_event")
    )
    shipments: list[Any] = []
    ctes: list[Any] = []
    for k, item_count in enumerate(shapes):
        shipment, more = _shipment_ctes(item_count, f"k{k}_", after=mark)
        shipments.append(shipment)
        ctes.extend(more)
    made = [select(func.count()).select_from(sh).scalar_subquery() for sh in shipments]
    total = made[0]
    for m in made[1:]:
        total = total + m
    seen = (
        select(processed.c.event_id)
        .where(processed.c.event_id == bindparam("e_event_id", type_=processed.c.event_id.type))
        .exists()
    )
    return select(
        select(func.count()).select_from(mark).scalar_subquery().label("marked"),
        total.label("made"),
        seen.label("seen"),
        taken.label("taken"),
    ).add_cte(*ctes)


# The booker's claim: ONE conditional UPDATE, taken only while the shipment has no
# AWB, is CREATED and nobody else holds a live claim on it (ours again renews it),
# answering the shipment's version and carrier as they are now. Built once, run on
# the driver (`Database.run`): parameters sid, token, now, lease (until).
_CLAIM = (
    update(S)
    .where(
        S.c.id == bindparam("sid", type_=S.c.id.type),
        S.c.awb.is_(None),
        S.c.status == "CREATED",
        or_(
            S.c.booking_claim.is_(None),
            S.c.booking_claim == bindparam("token", type_=S.c.booking_claim.type),
            S.c.booking_lease_until < bindparam("now", type_=S.c.booking_lease_until.type),
        ),
    )
    .values(
        booking_claim=bindparam("token", type_=S.c.booking_claim.type),
        booking_lease_until=bindparam("lease", type_=S.c.booking_lease_until.type),
    )
    .returning(S.c.version, S.c.carrier_id)
)

# A booking's AWB, recorded only if the shipment is still the one booked (no AWB,
# CREATED, the same carrier and version, our claim), letting go of the claim; answers
# the status. Built once (`Database.run_in`).
_BOOKED = (
    update(S)
    .where(
        S.c.id == bindparam("sid", type_=S.c.id.type),
        S.c.awb.is_(None),
        S.c.status == "CREATED",
        S.c.carrier_id == bindparam("carrier", type_=S.c.carrier_id.type),
        S.c.version == bindparam("b_version", type_=S.c.version.type),
        S.c.booking_claim == bindparam("token", type_=S.c.booking_claim.type),
    )
    .values(
        awb=bindparam("b_awb", type_=S.c.awb.type),
        carrier_shipment_id=bindparam("carrier_shipment", type_=S.c.carrier_shipment_id.type),
        booking_error="",
        booking_claim=None,
        booking_lease_until=None,
        update_time=bindparam("now", type_=S.c.update_time.type),
    )
    .returning(S.c.status)
)


class CarrierLike(Protocol):
    """A carriers row or its cached copy (services/shipping/cache.py)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def tracking_url_template(self) -> str: ...


class ItemLike(Protocol):
    @property
    def variant_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def quantity(self) -> int: ...


class Written(SimpleNamespace):
    """A shipment row as just inserted (the columns as attributes), standing in for the
    ORM object where the event, the booking or the label need one: no read back."""

    id: str

    @property
    def name(self) -> str:
        return f"shipments/{self.id}"


@dataclass
class BookingJob:
    """What booking a shipment needs: the row as written (or as read, by the sweep),
    its items and its carrier."""

    shipment: Shipment | Written
    items: Sequence[ItemLike]
    carrier: CarrierLike


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
        cache: ConfigCache | None = None,
        *,
        booking_lease_seconds: float = 120.0,
    ) -> None:
        self.db = db
        # How long a claim on a shipment holds while its booker calls the carrier.
        self.booking_lease = timedelta(seconds=booking_lease_seconds)
        self.outbox = outbox
        self.box = box
        self.adapters = dict(adapters)
        self.warehouses = warehouses
        self.default_carrier = default_carrier
        self.route = route
        # Carriers and PIN rows for new shipments (shared with the quotes).
        self.cache = cache or ConfigCache(db)
        # New shipments to book, handed over when their transaction commits; `wake`
        # is set then, and the booker (app.py) waits on it between sweeps.
        self.wake = asyncio.Event()
        self._queued: dict[str, BookingJob] = {}
        # Shipments booked (or tried) lately: a sweep that found a new shipment
        # before its commit hook queued it must not make the queue book it twice.
        self._attempted: dict[str, None] = {}

    def adapter(self, carrier: CarrierLike) -> CarrierAdapter:
        return self.adapters.get(carrier.kind) or ManualCarrier()

    def books_now(self, carrier: CarrierLike) -> bool:
        """The carrier's adapter books AWBs itself and is configured to."""
        adapter = self.adapter(carrier)
        return adapter.books_automatically and getattr(adapter, "ready", True)

    @property
    def books_anything(self) -> bool:
        """Some adapter books automatically and is configured: a booker is needed."""
        return any(
            a.books_automatically and getattr(a, "ready", True) for a in self.adapters.values()
        )

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
        """The label PDF: rendered the first time it is asked for (a shipment gets its
        AWB long before anyone prints it, and many are never printed here), then kept."""
        sid = require_name(name, "shipments")
        async with self.db.session() as s:
            row = await s.get(Shipment, sid)
            if row is None:
                raise NotFound(f"{name} not found")
            if row.label_pdf is not None:
                return row.label_pdf
            if not row.awb:
                raise NotFound(f"{name} has no label yet (no AWB)", reason="LABEL_NOT_READY")
            items = (
                await s.scalars(select(ShipmentItem).where(ShipmentItem.shipment_id == sid))
            ).all()
            carrier: CarrierLike | None = await self.cache.carrier(row.carrier_id)
            if carrier is None:
                carrier = await s.get(Carrier, row.carrier_id)
        assert carrier is not None  # a foreign key
        pdf = self._render(row, items, carrier)
        async with self.db.transaction() as s:
            stored = await s.scalar(
                update(S)
                .where(S.c.id == sid, S.c.label_pdf.is_(None))
                .values(label_pdf=pdf)
                .returning(S.c.id)
            )
            if stored is None:  # rendered concurrently: everyone gets the stored one
                kept = await s.scalar(select(S.c.label_pdf).where(S.c.id == sid))
                return kept if kept is not None else pdf
        return pdf

    # --- creation --------------------------------------------------------------------

    async def carrier_for(self, pincode: str, wanted: str, kind: str = "STANDARD") -> CarrierInfo:
        """`wanted`, else the PIN's carrier, else the zone method's, else the default
        (all from the in-memory configuration)."""
        cid = wanted
        if not cid:
            pin = await self.cache.pin(pincode)
            cid = pin.carrier_id if pin else ""
        if not cid and self.route is not None:
            cid = await self.route(pincode, kind)
        cid = cid or self.default_carrier
        carrier = await self.cache.carrier(cid)
        if carrier is None or not carrier.active:
            raise InvalidArgument({"carrier": f"carriers/{cid} does not exist or is inactive"})
        return carrier

    async def _existing(self, s: AsyncSession, new: NewShipment) -> str | None:
        """The id of the shipment already made for `new.request_id` (None if none); the
        same request id with another body is IDEMPOTENCY_KEY_REUSED."""
        found = (
            await s.execute(select(S.c.id, S.c.body_hash).where(S.c.request_id == new.request_id))
        ).first()
        if found is None:
            return None
        if found.body_hash != new.body_hash():
            raise AlreadyExists(
                f"request_id {new.request_id!r} was used for another shipment",
                reason="IDEMPOTENCY_KEY_REUSED",
            )
        return str(found.id)

    async def _carrier_of(self, new: NewShipment) -> CarrierInfo:
        """The new shipment's carrier (InvalidArgument: none, or an AWB it cannot take)."""
        carrier = await self.carrier_for(
            new.address.get("pincode", ""), new.carrier_id, new.method_kind
        )
        if new.awb and carrier.kind != "MANUAL":
            raise InvalidArgument({"awb": "only the manual carrier takes an AWB from an admin"})
        return carrier

    @staticmethod
    def _new_rows(
        new: NewShipment, carrier: CarrierInfo, source: str
    ) -> tuple[dict[str, Any], list[tuple[Any, ...]], dict[str, Any]]:
        """The shipment's columns, its item rows (ITEM_COLUMNS) and its first history row."""
        now = utcnow()
        fields: dict[str, Any] = dict(
            id=new_id(),
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
            carrier_shipment_id="",
            status="CREATED",
            address=new.address,
            email=new.email,
            weight_grams=sum(i.unit_weight_grams * i.quantity for i in new.items),
            cod_amount_minor=new.cod_amount_minor,
            label_pdf=None,
            booking_attempts=0,
            booking_error="",
            version=0,
            booking_claim=None,
            booking_lease_until=None,
            create_time=now,
            update_time=now,
        )
        item_rows = [
            (new_id(), i.variant_id, i.sku, i.title, i.quantity, i.unit_weight_grams)
            for i in new.items
        ]
        history = {
            "id": new_id(),
            "from_status": "",
            "to_status": "CREATED",
            "source": source,
            "note": "shipment created",
            "location": "",
            "carrier_id": None,
            "carrier_event_id": None,
            "applied": True,
            "time": now,
        }
        return fields, item_rows, history

    async def create_in(self, s: AsyncSession, new: NewShipment, source: str) -> str:
        """Create in `s` (or find the one made before for the same request id); its id."""
        try:
            carrier = await self._carrier_of(new)
        except InvalidArgument:
            # A retry of a request that succeeded answers with its shipment, even if
            # the carrier has been deactivated since.
            existing = await self._existing(s, new)
            if existing is not None:
                return existing
            raise
        fields, item_rows, history = self._new_rows(new, carrier, source)
        row = Written(**fields)
        if not await self._insert(s, fields, item_rows, history):
            existing = await self._existing(s, new)
            if existing is None:  # pragma: no cover - a conflict leaves the row behind
                raise AlreadyExists(f"request_id {new.request_id!r} is in use")
            return existing
        await self._record(
            s, row, carrier, "", "CREATED", source, note="shipment created", event_only=True
        )
        if not row.awb and self.books_now(carrier):
            self._book_after_commit(s, BookingJob(row, list(new.items), carrier))
        return row.id

    async def create_for_event(
        self, event: Any, processed: Table, news: Sequence[NewShipment], source: str
    ) -> bool | None:
        """PostgreSQL, an event that makes `news` (none with an AWB): the event's
        processed mark and every shipment, its items and first history row as ONE
        statement in autocommit, instead of BEGIN, the mark, a statement per shipment
        and COMMIT. True: the event was handled before (nothing written); False:
        handled now. None, with nothing written, when it does not fit (SQLite, a
        carrier that cannot be used, a creation event some subscriber wants, a
        request id already in use): the caller goes the usual way (a transaction
        through `create_in`), which answers those cases as always."""
        if self.db.dialect != "postgresql" or not news:
            return None
        made: list[tuple[Written, NewShipment, CarrierInfo]] = []
        params: dict[str, Any] = {
            "e_event_id": event.event_id,
            "e_topic": event.topic,
            "e_source": event.source,
            "e_processed_at": utcnow(),
        }
        for k, new in enumerate(news):
            try:
                carrier = await self._carrier_of(new)
            except InvalidArgument:
                return None
            fields, item_rows, history = self._new_rows(new, carrier, source)
            row = Written(**fields)
            if row.awb or self.outbox.recipients(
                STATUS_CHANGED, self._status_event(row, carrier, "", "CREATED", "shipment created")
            ):
                return None  # its creation is an outbox row: written in a transaction
            params.update(_shipment_params(f"k{k}_", fields, item_rows, history))
            made.append((row, new, carrier))
        statement = _pg_create_for_event(processed, tuple(len(new.items) for new in news))
        try:
            # Straight on the driver, autocommit (`Database.run`): the statement is
            # built once per shape (lru_cache), so it is compiled once.
            ((marked, count, seen, taken),) = await self.db.run(statement, params)
        except IntegrityError:  # a request id taken meanwhile: nothing was written
            return None
        if not marked:
            # Handled before, or by a concurrent delivery that committed while this
            # one waited on its mark; else another event made one of these shipments
            # (the usual way tells a retry from a reused request id).
            return True if seen or not taken else None
        assert count == len(news)  # the mark is written only with every shipment
        jobs = [
            BookingJob(row, list(new.items), carrier)
            for row, new, carrier in made
            if self.books_now(carrier)
        ]
        if jobs:
            self._queue(jobs)
        return False

    async def _insert(
        self,
        s: AsyncSession,
        fields: dict[str, Any],
        item_rows: Sequence[tuple[Any, ...]],
        history: dict[str, Any],
    ) -> bool:
        """Insert the shipment, its items and its first history row unless a shipment
        with its request id exists; True when inserted."""
        if self.db.dialect == "postgresql":
            params = _shipment_params("", fields, item_rows, history)
            return bool(await self.db.run_in(s, _pg_create(len(item_rows)), params))
        inserted = await s.scalar(
            sqlite.insert(S)
            .values(fields)
            .on_conflict_do_nothing(index_elements=[S.c.request_id])
            .returning(S.c.id)
        )
        if inserted is None:
            return False
        if item_rows:
            await s.execute(
                insert(ITEMS),
                [
                    {**dict(zip(ITEM_COLUMNS, r, strict=True)), "shipment_id": fields["id"]}
                    for r in item_rows
                ],
            )
        await s.execute(insert(HISTORY).values(**history, shipment_id=fields["id"]))
        return True

    def _book_after_commit(self, s: AsyncSession, job: BookingJob) -> None:
        jobs = s.info.get(_NEW_BOOKINGS)
        if jobs is None:
            jobs = s.info[_NEW_BOOKINGS] = []
            event.listen(s.sync_session, "after_commit", self._hand_over, once=True)
        jobs.append(job)

    def _hand_over(self, session: Any) -> None:
        self._queue(session.info.pop(_NEW_BOOKINGS, ()))

    def _queue(self, jobs: Sequence[BookingJob]) -> None:
        """Hand committed new shipments to the booker (app.py) and wake it."""
        for job in jobs:
            if len(self._queued) < MAX_QUEUED:
                self._queued[job.shipment.id] = job
        self.wake.set()

    def forget_booking(self, shipment_id: str) -> None:
        """Drop a booking handed over in memory: its shipment changed since it was
        written (an order edit). The sweep books it from the table instead."""
        self._queued.pop(shipment_id, None)

    async def create(self, new: NewShipment, source: str) -> ShipmentView:
        try:
            async with self.db.transaction() as s:
                sid = await self.create_in(s, new, source)
        except IntegrityError:
            raise AlreadyExists(
                f"AWB {new.awb} is already used by another shipment", reason="AWB_IN_USE"
            ) from None
        async with self.db.session() as s:
            return await self.view(s, sid)

    # --- AWBs, labels, booking -------------------------------------------------------

    def _render(self, row: Shipment | Written, items: Sequence[Any], carrier: CarrierLike) -> bytes:
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
                row.update_time = utcnow()
                await s.flush()
        except IntegrityError:
            raise AlreadyExists(f"AWB {awb} is already used", reason="AWB_IN_USE") from None
        return await self.get(name)

    async def _job(self, shipment_id: str) -> BookingJob | None:
        """The shipment as stored, for booking (None once it has an AWB)."""
        async with self.db.session() as s:
            view = await self.view(s, shipment_id)
        if view.shipment.awb or view.carrier is None:
            return None
        return BookingJob(view.shipment, view.items, view.carrier)

    async def book(self, shipment_id: str) -> bool:
        """Book an AWB with the shipment's carrier (no transaction open during the call).
        True when booked now."""
        job = await self._job(shipment_id)
        if job is None:
            return False
        if not self.adapter(job.carrier).books_automatically:
            raise FailedPrecondition("enter the AWB for the manual carrier", reason="AWB_REQUIRED")
        return await self._book(job)

    def _parcel(self, row: Shipment | Written, items: Sequence[ItemLike]) -> Parcel:
        """The parcel a carrier is asked to carry for a shipment as it is now (items in a
        fixed order, so two reads of the same shipment give equal parcels)."""
        origin = self.warehouses(row.warehouse_id)
        customer = _party(row.address, row.email)
        wh = _party(origin, "")
        return Parcel(
            reference=row.id,
            order_number=row.order_number,
            pickup=customer if row.direction == "RETURN" else wh,
            deliver_to=wh if row.direction == "RETURN" else customer,
            items=tuple(
                sorted(
                    (ParcelItem(i.sku or i.variant_id, i.title, i.quantity) for i in items),
                    key=lambda x: (x.sku, x.title, x.quantity),
                )
            ),
            weight_grams=row.weight_grams,
            cod_amount_minor=row.cod_amount_minor,
            is_return=row.direction == "RETURN",
        )

    async def _book(self, job: BookingJob) -> bool:
        """Book `job` under a claim of our own (`_CLAIM`); a booking that went stale
        while the carrier was being called (the shipment changed: an order edit) is
        cancelled and the shipment booked again as it is now, still under that claim,
        up to MAX_REBOOKS times (then the claim is let go and the sweep books it)."""
        token = new_id()
        for _ in range(MAX_REBOOKS):
            outcome = await self._book_once(job, token)
            if outcome is not None:
                return outcome
            again = await self._job(job.shipment.id)
            if again is None or not self.books_now(again.carrier):
                break
            if again.shipment.status != "CREATED":
                break
            job = again
        await self.db.execute(_release(job.shipment.id, token))
        return False

    def _claim_params(self, shipment_id: str, token: str) -> dict[str, Any]:
        """`_CLAIM`'s parameters: ours, leased from now."""
        now = utcnow()
        return {"sid": shipment_id, "token": token, "now": now, "lease": now + self.booking_lease}

    async def _book_once(self, job: BookingJob, token: str) -> bool | None:
        """One booking: True when booked, False when not (the carrier failed, the
        shipment needs no booking any more, or another booker holds it), None when the
        booking went stale and was cancelled, or the shipment changed since `job` was
        read (book again from the table).

        First the claim (`_CLAIM`): a shipment another booker is booking (another
        replica, the sweep, an admin's "book now") is left to it, so the carrier is
        called once. A job read (or handed over in memory) before the shipment changed
        is not sent: the claim answers the version.

        The carrier is called outside any transaction; its AWB is recorded only if,
        with the shipment row locked (the lock the order.updated consumer takes to
        change it), the shipment still has no AWB, is still CREATED, still goes with
        this carrier and its parcel is still the one sent. Otherwise the booking is
        stale: the carrier has a parcel the shipment no longer is (or a second
        booking of it), so it is cancelled with the carrier and noted in the history;
        a cancellation the carrier refuses is flagged NEEDS ATTENTION with the AWB for
        an admin to cancel by hand."""
        row, carrier = job.shipment, job.carrier
        sid = row.id
        self._attempted[sid] = None
        while len(self._attempted) > MAX_QUEUED:
            del self._attempted[next(iter(self._attempted))]
        claimed = await self.db.run(_CLAIM, self._claim_params(sid, token))
        if not claimed:  # booked, cancelled, or being booked by someone else
            return False
        if (claimed[0].version, claimed[0].carrier_id) != (row.version, carrier.id):
            return None  # changed since it was read: book it as it is now
        parcel = self._parcel(row, job.items)
        adapter = self.adapter(carrier)
        try:
            booking = await adapter.book(parcel)
        except CarrierError as exc:
            async with self.db.transaction() as s:
                mine = S.c.booking_claim == token
                await s.execute(
                    update(S)
                    .where(S.c.id == sid)
                    .values(
                        booking_attempts=S.c.booking_attempts + 1,
                        booking_error=str(exc)[:500],
                        booking_claim=case((mine, None), else_=S.c.booking_claim),
                        booking_lease_until=case((mine, None), else_=S.c.booking_lease_until),
                    )
                )
            log.warning("carrier booking failed", extra={"shipment": sid, "error": str(exc)})
            return False
        async with self.db.transaction() as s:
            # One statement when nothing changed meanwhile: the row is locked by the
            # UPDATE and the conditions are checked on it as it is now; the claim goes.
            booked = await self.db.run_in(
                s,
                _BOOKED,
                {
                    "sid": sid,
                    "carrier": carrier.id,
                    "b_version": row.version,
                    "token": token,
                    "b_awb": booking.awb,
                    "carrier_shipment": booking.carrier_shipment_id,
                    "now": utcnow(),
                },
            )
            status = booked[0].status if booked else None
            stale: list[str] = []
            if status is None:  # changed meanwhile: compare what the carrier has, locked
                current = await s.get(Shipment, sid, with_for_update=True)
                if current is None:  # pragma: no cover - shipments are never deleted
                    return False
                items = (
                    await s.scalars(select(ShipmentItem).where(ShipmentItem.shipment_id == sid))
                ).all()
                status = current.status
                stale = _stale(parcel, carrier.id, current, self._parcel(current, items))
                if not stale:  # changed and changed back: the parcel is the one booked
                    # (or our lease lapsed and another booker claimed it: its booking,
                    # if it makes one, finds this AWB and is cancelled)
                    current.awb = booking.awb
                    current.carrier_shipment_id = booking.carrier_shipment_id
                    current.booking_error = ""
                    current.booking_claim = current.booking_lease_until = None
                    current.update_time = utcnow()
            if not stale:
                row.awb, row.status = booking.awb, status
                await self._record(
                    s,
                    row,
                    carrier,
                    status,
                    status,
                    "carrier",
                    note=f"AWB {booking.awb} assigned",
                    event_only=True,
                )
                return True
        BOOKINGS_STALE.inc()
        log.warning(
            "carrier booking went stale while it was made: cancelling it",
            extra={"shipment": sid, "awb": booking.awb, "changes": stale},
        )
        what = "; ".join(stale)
        try:
            await adapter.cancel(booking.awb)
        except CarrierError as exc:
            note = (
                f"NEEDS ATTENTION: carrier booking AWB {booking.awb} was made for the "
                f"shipment as it was before it changed ({what}) and the carrier did not "
                f"cancel it ({exc}); cancel it with the carrier by hand"
            )
        else:
            note = (
                f"carrier booking AWB {booking.awb} cancelled: the shipment changed while "
                f"it was being booked ({what})"
            )
        async with self.db.transaction() as s:
            s.add(
                StatusChange(
                    id=new_id(),
                    shipment_id=sid,
                    from_status=status,
                    to_status=status,
                    source=STALE_BOOKING_SOURCE,
                    note=note[:500],
                    location="",
                    applied=True,
                    time=utcnow(),
                )
            )
        return None

    async def book_queued(self) -> int:
        """Book the shipments handed over by their commits, from memory; the number
        booked."""
        booked = 0
        while self._queued:
            sid = next(iter(self._queued))
            job = self._queued.pop(sid)
            if sid not in self._attempted:
                booked += await self._book(job)
        return booked

    async def book_pending(self) -> int:
        """Book every shipment still waiting for an aggregator AWB that nobody is
        booking (no claim, or a claim whose lease lapsed); the number booked."""
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
                        or_(
                            Shipment.booking_claim.is_(None),
                            Shipment.booking_lease_until < utcnow(),
                        ),
                    )
                    .order_by(Shipment.id)
                    .limit(50)
                )
            ).all()
        booked = 0
        for sid in ids:
            job = self._queued.pop(sid, None) or await self._job(sid)
            if job is not None:
                booked += await self._book(job)
        return booked

    # --- status ----------------------------------------------------------------------

    async def _record(
        self,
        s: AsyncSession,
        row: Shipment | Written,
        carrier: CarrierLike | None,
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
            s, STATUS_CHANGED, self._status_event(row, carrier, from_status, to_status, note)
        )

    @staticmethod
    def _status_event(
        row: Shipment | Written,
        carrier: CarrierLike | None,
        from_status: str,
        to_status: str,
        note: str,
    ) -> events_pb2.ShipmentStatusChangedEvent:
        return events_pb2.ShipmentStatusChangedEvent(
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


def _release(shipment_id: str, token: str) -> Any:
    """Let go of our claim (a booking given up on: the sweep books the shipment)."""
    return (
        update(S)
        .where(S.c.id == shipment_id, S.c.booking_claim == token)
        .values(booking_claim=None, booking_lease_until=None)
    )


def _stale(sent: Parcel, carrier_id: str, current: Shipment, now: Parcel) -> list[str]:
    """Why a booking of `sent` with `carrier_id` no longer fits the shipment as it is
    now (its row locked), in words; [] when it does."""
    out: list[str] = []
    if current.awb:
        out.append(f"it has AWB {current.awb} already")
    if current.status != "CREATED":
        out.append(f"it is {current.status}")
    if current.carrier_id != carrier_id:
        out.append(f"carrier {carrier_id} -> {current.carrier_id}")
    if sent.items != now.items:
        out.append(
            "items "
            + ", ".join(f"{i.sku} x{i.quantity}" for i in sent.items)
            + " -> "
            + ", ".join(f"{i.sku} x{i.quantity}" for i in now.items)
        )
    if (sent.pickup, sent.deliver_to) != (now.pickup, now.deliver_to):
        to = now.pickup if now.is_return else now.deliver_to
        out.append(f"address -> {to.line1}, {to.city} {to.pincode}".strip())
    if sent.cod_amount_minor != now.cod_amount_minor:
        out.append(f"COD {sent.cod_amount_minor} -> {now.cod_amount_minor} paise")
    if sent.weight_grams != now.weight_grams:
        out.append(f"weight {sent.weight_grams} g -> {now.weight_grams} g")
    if not out and sent != now:
        out.append("parcel details")
    return out


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
