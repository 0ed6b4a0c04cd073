"""Reservations (internal: the order service) and availability (internal: catalog, order).

ReserveStock is all or nothing and idempotent on request_id. Concurrency: on
PostgreSQL every stock row of the requested variants is locked FOR UPDATE in
(variant_id, warehouse_id) order before anything is read or written, so two
reservations for the last unit serialize and the second sees it gone; the
request-id lookup is repeated after the locks, so a concurrent duplicate finds the
first one's reservation; a unique index on request_id backs that up. On SQLite a
write unit of work begins with BEGIN IMMEDIATE: writers run one at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.inventory.v1 import availability_service_pb2, reservation_service_pb2
from mesh.db import Database, new_id, utcnow
from mesh.errors import FailedPrecondition, InvalidArgument, Violations
from mesh.outbox import Outbox
from observability.metrics import counter, gauge
from services.inventory import repository as repo
from services.inventory.config import Settings
from services.inventory.domain import allocation
from services.inventory.domain import stock as rules
from services.inventory.domain.rules import (
    MAX_LINES,
    MAX_QUANTITY,
    state_code,
    valid_pincode,
    valid_state_code,
    valid_variant_id,
)
from services.inventory.handlers.common import (
    Clock,
    Ledger,
    id_of,
    not_found,
    warehouse_id_of,
)
from services.inventory.models import (
    Backorder,
    IdempotencyKey,
    Reservation,
    ReservationLine,
    Stock,
    Warehouse,
)

log = logging.getLogger("cleanse.inventory.reservations")

RESERVATIONS = counter("stock_reservations_total", "Reservation attempts by outcome.", ["outcome"])
ACTIVE = gauge("stock_reservations_active", "Reservations currently held (set by the sweeper).")
MAX_BATCH = 500


@dataclass(frozen=True)
class ReservationView:
    reservation: Reservation
    lines: list[ReservationLine]


def _demand(lines: list[reservation_service_pb2.ReserveLine]) -> dict[str, int]:
    v = Violations()
    if len(lines) > MAX_LINES:
        v.add("lines", f"at most {MAX_LINES} lines")
    demand: dict[str, int] = defaultdict(int)
    for i, line in enumerate(lines):
        if not valid_variant_id(line.variant_id):
            v.add(f"lines[{i}].variant_id", "is not a valid variant id")
        if not 0 < line.quantity <= MAX_QUANTITY:
            v.add(f"lines[{i}].quantity", f"must be between 1 and {MAX_QUANTITY}")
        demand[line.variant_id] += line.quantity
    v.raise_if_any()
    return dict(sorted(demand.items()))


def _hash(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ReservationHandlers:
    def __init__(self, db: Database, outbox: Outbox, settings: Settings, clock: Clock = utcnow):
        self.db = db
        self.outbox = outbox
        self.settings = settings
        self.clock = clock

    # --- reserve -------------------------------------------------------------------

    async def reserve(self, req: reservation_service_pb2.ReserveStockRequest) -> ReservationView:
        v = Violations()
        v.check(len(req.request_id) <= 128, "request_id", "at most 128 characters")
        if req.delivery_pincode:
            v.check(valid_pincode(req.delivery_pincode), "delivery_pincode", "6 digits, not 0xxxxx")
        if req.delivery_state_code:
            v.check(
                valid_state_code(req.delivery_state_code),
                "delivery_state_code",
                "is not an Indian state/UT code",
            )
        v.check(
            0 <= req.ttl_seconds <= self.settings.max_ttl_seconds,
            "ttl_seconds",
            f"must be between 0 and {self.settings.max_ttl_seconds}",
        )
        v.raise_if_any()
        demand = _demand(list(req.lines))
        if req.delivery_state_code:
            req.delivery_state_code = state_code(req.delivery_state_code) or ""
        ttl = req.ttl_seconds or self.settings.default_ttl_seconds
        body = _hash(
            {
                "demand": demand,
                "pincode": req.delivery_pincode,
                "state": req.delivery_state_code,
                "ttl": ttl,
            }
        )
        try:
            view = await self._reserve(req, demand, ttl, body)
        except IntegrityError:
            # A concurrent duplicate committed first (unique request_id): answer with it.
            async with self.db.session() as s:
                existing = await repo.reservation_by_request(s, req.request_id)
                if existing is None:
                    raise
                view = await self._replay(s, existing, body)
        return view

    async def _replay(self, s: AsyncSession, existing: Reservation, body: str) -> ReservationView:
        if existing.body_hash != body:
            RESERVATIONS.labels("idempotency_mismatch").inc()
            raise FailedPrecondition(
                "request_id was already used for a different reservation",
                reason="IDEMPOTENCY_MISMATCH",
                metadata={"request_id": existing.request_id},
            )
        RESERVATIONS.labels("replayed").inc()
        return ReservationView(existing, await repo.reservation_lines(s, existing.id))

    async def _reserve(
        self,
        req: reservation_service_pb2.ReserveStockRequest,
        demand: dict[str, int],
        ttl: int,
        body: str,
    ) -> ReservationView:
        async with self.db.transaction() as s:
            rows = await repo.lock_variant_stocks(s, demand)
            existing = await repo.reservation_by_request(s, req.request_id)
            if existing is not None:  # a concurrent duplicate won while we waited
                return await self._replay(s, existing, body)
            now = self.clock()
            sites = {wh.id: allocation.Site(wh.id, wh.pincode, wh.state_code) for _, wh in rows}
            supplies = [
                allocation.Supply(
                    st.warehouse_id,
                    st.variant_id,
                    rules.available(st.on_hand, st.reserved, st.safety_stock),
                    rules.backorder_room(st.backorder_allowed, st.backorder_limit, st.backordered),
                )
                for st, _ in rows
            ]
            try:
                plan = allocation.allocate(
                    demand,
                    supplies,
                    list(sites.values()),
                    req.delivery_pincode,
                    req.delivery_state_code,
                )
            except allocation.OutOfStock as exc:
                RESERVATIONS.labels("out_of_stock").inc()
                raise FailedPrecondition(
                    f"not enough stock for {', '.join(exc.variant_ids)}",
                    reason="OUT_OF_STOCK",
                    metadata={"variant_ids": ",".join(exc.variant_ids)},
                ) from None
            stocks = {(st.variant_id, st.warehouse_id): st for st, _ in rows}
            res = Reservation(
                id=new_id(),
                request_id=req.request_id,
                body_hash=body,
                state="HELD",
                delivery_pincode=req.delivery_pincode,
                delivery_state_code=req.delivery_state_code,
                expire_time=now + timedelta(seconds=ttl),
                create_time=now,
                update_time=now,
            )
            s.add(res)
            # A racing duplicate that got past the lookup (no stock rows to lock) is
            # stopped here by the unique request_id index.
            await s.flush()
            lines: list[ReservationLine] = []
            for a in plan:
                st = stocks[(a.variant_id, a.warehouse_id)]
                st.reserved += a.quantity
                st.backordered += a.backordered
                st.update_time = now
                line = ReservationLine(
                    reservation_id=res.id,
                    variant_id=a.variant_id,
                    warehouse_id=a.warehouse_id,
                    quantity=a.quantity,
                    backordered_quantity=a.backordered,
                )
                lines.append(line)
                s.add(line)
                if a.backordered:
                    s.add(
                        Backorder(
                            reservation_id=res.id,
                            variant_id=a.variant_id,
                            warehouse_id=a.warehouse_id,
                            quantity=a.backordered,
                            state="OPEN",
                            create_time=now,
                        )
                    )
            await Ledger(s, self.outbox, now).settle(
                stocks[(a.variant_id, a.warehouse_id)] for a in plan
            )
        RESERVATIONS.labels("reserved").inc()
        return ReservationView(res, sorted(lines, key=lambda x: (x.variant_id, x.warehouse_id)))

    # --- commit / release ------------------------------------------------------------

    async def _locked(
        self, s: AsyncSession, name: str
    ) -> tuple[Reservation, dict[repo.StockKey, Stock]]:
        rid = id_of(name, "reservations")
        res = await repo.lock_reservation(s, rid)
        if res is None:
            raise not_found("reservation", name)
        lines = await repo.reservation_lines(s, rid)
        stocks = await repo.lock_stocks(s, [(ln.variant_id, ln.warehouse_id) for ln in lines])
        return res, stocks

    async def commit(self, name: str) -> ReservationView:
        async with self.db.transaction() as s:
            res, stocks = await self._locked(s, name)
            if res.state != "COMMITTED":
                if res.state != "HELD":
                    raise FailedPrecondition(
                        f"reservation is {res.state.lower()}, not held",
                        reason="RESERVATION_NOT_HELD",
                        metadata={"state": res.state},
                    )
                now = self.clock()
                if res.expire_time <= now:
                    raise FailedPrecondition(
                        "reservation has expired", reason="RESERVATION_EXPIRED"
                    )
                ledger = Ledger(s, self.outbox, now)
                # Lines re-read after the stock locks: backorder fills may have grown them.
                for line in await repo.reservation_lines(s, res.id):
                    st = stocks[(line.variant_id, line.warehouse_id)]
                    if line.quantity:
                        st.reserved -= line.quantity
                        st.on_hand -= line.quantity
                        st.update_time = now
                        ledger.record(st, -line.quantity, "SALE", reference=res.name)
                res.state = "COMMITTED"
                res.update_time = now
            lines = await repo.reservation_lines(s, res.id)
        return ReservationView(res, lines)

    async def release(self, name: str, *, expired: bool = False) -> ReservationView:
        async with self.db.transaction() as s:
            res, stocks = await self._locked(s, name)
            if res.state == "COMMITTED":
                if expired:
                    return ReservationView(res, await repo.reservation_lines(s, res.id))
                raise FailedPrecondition(
                    "a committed reservation cannot be released; restock the return instead",
                    reason="RESERVATION_COMMITTED",
                )
            if res.state == "HELD":
                now = self.clock()
                for line in await repo.reservation_lines(s, res.id):
                    st = stocks[(line.variant_id, line.warehouse_id)]
                    st.reserved -= line.quantity
                    st.update_time = now
                for bo in await repo.reservation_backorders(s, res.id):
                    if bo.state == "OPEN":
                        st = stocks[(bo.variant_id, bo.warehouse_id)]
                        st.backordered -= bo.quantity - bo.allocated_quantity
                        bo.state = "CANCELLED"
                res.state = "EXPIRED" if expired else "RELEASED"
                res.update_time = now
                await Ledger(s, self.outbox, now).settle(stocks.values())
            lines = await repo.reservation_lines(s, res.id)
        return ReservationView(res, lines)

    async def get(self, name: str) -> ReservationView:
        rid = id_of(name, "reservations")
        async with self.db.session() as s:
            res = await s.get(Reservation, rid)
            if res is None:
                raise not_found("reservation", name)
            return ReservationView(res, await repo.reservation_lines(s, rid))

    # --- expiry sweeper ----------------------------------------------------------------

    async def sweep_once(self, limit: int = 100) -> int:
        """Release holds whose time ran out; the number released."""
        now = self.clock()
        async with self.db.session() as s:
            ids = list(
                await s.scalars(
                    select(Reservation.id)
                    .where(Reservation.state == "HELD", Reservation.expire_time <= now)
                    .order_by(Reservation.expire_time)
                    .limit(limit)
                )
            )
        released = 0
        for rid in ids:
            view = await self.release(f"reservations/{rid}", expired=True)
            released += view.reservation.state == "EXPIRED"
        if released:
            log.info("released lapsed holds", extra={"count": released})
        async with self.db.session() as s:
            held = await s.scalar(
                select(func.count()).select_from(Reservation).where(Reservation.state == "HELD")
            )
        ACTIVE.set(held or 0)
        return released

    async def sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reservation sweep failed")
            await asyncio.sleep(self.settings.sweep_interval_seconds)

    # --- returns ----------------------------------------------------------------------

    async def restock_return(
        self, req: reservation_service_pb2.RestockReturnRequest
    ) -> reservation_service_pb2.RestockReturnResponse:
        from services.inventory.servicer import adjustment_pb  # conversions live there

        demand = _demand(list(req.lines))
        if not req.warehouse and not req.reservation:
            raise InvalidArgument({"warehouse": "give a warehouse or the reservation"})
        key = f"restock:{req.request_id}"[:160]
        body = _hash(
            {"demand": demand, "res": req.reservation, "wh": req.warehouse, "note": req.note}
        )
        async with self.db.transaction() as s:
            prior = await s.get(IdempotencyKey, key)
            if prior is not None:
                if prior.body_hash != body:
                    raise FailedPrecondition(
                        "request_id was already used for a different return",
                        reason="IDEMPOTENCY_MISMATCH",
                    )
                return reservation_service_pb2.RestockReturnResponse.FromString(prior.response)
            targets: dict[str, str] = {}
            if req.warehouse:
                wid = warehouse_id_of(req.warehouse, "warehouse")
                if await s.get(Warehouse, wid) is None:
                    raise not_found("warehouse", req.warehouse)
                targets = dict.fromkeys(demand, wid)
            else:
                rid = id_of(req.reservation, "reservations", "reservation")
                if await s.get(Reservation, rid) is None:
                    raise not_found("reservation", req.reservation)
                for line in await repo.reservation_lines(s, rid):
                    targets.setdefault(line.variant_id, line.warehouse_id)
                unknown = [v for v in demand if v not in targets]
                if unknown:
                    raise InvalidArgument(
                        [("lines", f"{v} was not part of the reservation") for v in unknown]
                    )
            now = self.clock()
            stocks = await repo.lock_stocks(s, [(v, targets[v]) for v in demand])
            ledger = Ledger(s, self.outbox, now)
            out = reservation_service_pb2.RestockReturnResponse()
            for v, qty in demand.items():
                st = stocks.get((v, targets[v]))
                if st is None:
                    st = Stock(variant_id=v, warehouse_id=targets[v], update_time=now)
                    for f in ("on_hand", "reserved", "safety_stock", "reorder_point"):
                        setattr(st, f, 0)
                    st.backorder_allowed, st.backorder_limit = False, 0
                    st.backordered, st.in_transit, st.low_stock_alerted = 0, 0, False
                    s.add(st)
                    stocks[(v, targets[v])] = st
                await ledger.bring_in(st, qty)
                adj = ledger.record(
                    st, qty, "RETURN_RESTOCK", note=req.note, reference=req.reservation
                )
                await s.flush()
                out.adjustments.append(adjustment_pb(adj))
            await ledger.settle(stocks.values())
            s.add(IdempotencyKey(key=key, body_hash=body, response=out.SerializeToString()))
        return out

    # --- availability -------------------------------------------------------------------

    async def availability(
        self, variant_ids: list[str]
    ) -> availability_service_pb2.BatchGetAvailabilityResponse:
        if len(variant_ids) > MAX_BATCH:
            raise InvalidArgument({"variant_ids": f"at most {MAX_BATCH} ids"})
        totals: dict[str, list[int]] = {}
        async with self.db.session() as s:
            rows = await s.execute(
                select(
                    Stock.variant_id,
                    Stock.on_hand,
                    Stock.reserved,
                    Stock.safety_stock,
                    Stock.reorder_point,
                    Stock.backorder_allowed,
                    Stock.backorder_limit,
                    Stock.backordered,
                )
                .join(Warehouse, Warehouse.id == Stock.warehouse_id)
                .where(Stock.variant_id.in_(set(variant_ids)), Warehouse.active.is_(True))
            )
            for vid, on_hand, reserved, safety, reorder, bo_ok, bo_limit, bo in rows.all():
                t = totals.setdefault(vid, [0, 0, 0])
                t[0] += rules.available(on_hand, reserved, safety)
                t[1] += reorder
                t[2] += rules.backorder_room(bo_ok, bo_limit, bo)
        out = availability_service_pb2.BatchGetAvailabilityResponse()
        for vid in variant_ids:
            avail, reorder, room = totals.get(vid, [0, 0, 0])
            threshold = reorder or self.settings.low_stock_threshold
            out.availabilities.append(
                availability_service_pb2.VariantAvailability(
                    variant_id=vid,
                    status=rules.stock_status(avail, threshold, room),
                    available=avail,
                    backorder_remaining=room,
                )
            )
        return out
