"""Reservations (internal: the order service) and availability (internal: catalog, order).

ReserveStock is all or nothing and idempotent on request_id. Concurrency: on
PostgreSQL every stock row a reservation takes is locked FOR UPDATE in
(variant_id, warehouse_id) order before it is checked and written, so two
reservations for the last unit serialize and the second sees it gone; the unique
index on request_id makes a concurrent duplicate wait for the first one and then
answer with its reservation. On SQLite a write unit of work begins with BEGIN
IMMEDIATE: writers run one at a time.

The checkout path runs prebuilt statements (repository, end of module) and as
few round trips as the guarantees allow (README "Concurrency"); on PostgreSQL its
single statements go straight to the driver (Database.fetch, mesh/db.py):

- ReserveStock on PostgreSQL: ONE autocommit statement that reads the stock rows,
  picks the warehouse allocation step 1 would (one ships everything), locks its rows
  in order and writes only if each still has the units and the low-stock ledger has
  nothing to do; when no one warehouse can, it returns the rows, allocation splits
  them here and one more such statement writes the plan. Otherwise (and on SQLite)
  the locking path: lock the stock rows, allocate, then INSERT the reservation ON
  CONFLICT (request_id) DO NOTHING (nothing back: a duplicate won, answer with it),
  its lines and the stock rows' holds (one statement on PostgreSQL). The request-id
  lookup only runs on such a conflict or when allocation failed (a retry of a
  reservation that took the last unit replays, it does not fail OUT_OF_STOCK).
- GetReservation: the reservation and its lines in one SELECT.
- CommitReservation of a hold without backorders (its lines never change: only
  backorder fills edit lines): ONE statement on PostgreSQL (the hold HELD ->
  COMMITTED if held and not lapsed, its row locked first; then its stock rows in
  lock order and the SALE adjustments); on SQLite a guarded UPDATE and the same
  steps in one transaction. Anything else (backorders, a race lost) takes the
  general path, which locks first and reads after.

RestockReturn against a reservation locks the reservation, then its stock rows: the
units go back where the reservation took them (domain/returns.py), counted on its
lines, never more than each warehouse gave, so concurrent restocks serialize.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.inventory.v1 import availability_service_pb2, events_pb2, reservation_service_pb2
from mesh.db import Database, new_id, utcnow
from mesh.errors import FailedPrecondition, InvalidArgument, Violations
from mesh.outbox import Outbox
from observability.metrics import counter, gauge
from services.inventory import repository as repo
from services.inventory.config import Settings
from services.inventory.domain import allocation, returns
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
    LOW_STOCK_ALERTS,
    LOW_STOCK_TOPIC,
    Clock,
    Ledger,
    actor,
    id_of,
    not_found,
    warehouse_id_of,
)
from services.inventory.models import (
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


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    """A reservation row as read by a Core statement (the ORM's Reservation has the
    same attributes)."""

    id: str
    request_id: str
    body_hash: str
    state: str
    delivery_pincode: str
    delivery_state_code: str
    expire_time: datetime
    create_time: datetime
    update_time: datetime

    @property
    def name(self) -> str:
        return f"reservations/{self.id}"


@dataclass(frozen=True, slots=True)
class LineRecord:
    variant_id: str
    warehouse_id: str
    quantity: int
    backordered_quantity: int


@dataclass(frozen=True)
class ReservationView:
    reservation: Reservation | ReservationRecord
    lines: Sequence[ReservationLine | LineRecord]


def _view(rows: Sequence[Any]) -> ReservationView | None:
    """ReservationView from the rows of repo.RESERVATION_BY_ID / _BY_REQUEST."""
    if not rows:
        return None
    r = rows[0]
    res = ReservationRecord(
        r.id,
        r.request_id,
        r.body_hash,
        r.state,
        r.delivery_pincode,
        r.delivery_state_code,
        r.expire_time,
        r.create_time,
        r.update_time,
    )
    lines = [
        LineRecord(
            x.line_variant_id, x.line_warehouse_id, x.line_quantity, x.line_backordered_quantity
        )
        for x in rows
        if x.line_variant_id is not None
    ]
    return ReservationView(res, lines)


async def _read(s: AsyncSession, stmt: Any, params: dict[str, Any]) -> ReservationView | None:
    return _view((await s.execute(stmt, params)).all())


async def _end_write(s: AsyncSession) -> None:
    """After ONE write statement in a read session: on PostgreSQL that session is in
    autocommit, so the statement has committed on its own (no BEGIN/COMMIT round
    trips); commit explicitly only should it not be."""
    if s.bind.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        await s.commit()


def _low_stock(st: Any, reserved: int) -> tuple[bool, events_pb2.LowStockEvent | None]:
    """Ledger.settle for a stock row read by LOCK_VARIANT_STOCKS that is about to hold
    `reserved`: its new alerted flag (re-armed when no longer low) and the event of a
    dip to the reorder point, if this is one."""
    avail = rules.available(st.on_hand, reserved, st.safety_stock)
    low = rules.is_low(avail, st.reorder_point)
    if not low or st.low_stock_alerted:
        return low, None
    return True, events_pb2.LowStockEvent(
        variant_id=st.variant_id,
        warehouse=f"warehouses/{st.warehouse_id}",
        available=avail,
        on_hand=st.on_hand,
        reorder_point=st.reorder_point,
    )


def _allocate(
    rows: Sequence[Any], demand: dict[str, int], req: reservation_service_pb2.ReserveStockRequest
) -> list[allocation.Allocated]:
    """The plan for `demand` over stock rows read by repo.VARIANT_STOCKS (raises
    allocation.OutOfStock)."""
    sites = {r.warehouse_id: allocation.Site(r.warehouse_id, r.pincode, r.state_code) for r in rows}
    supplies = [
        allocation.Supply(
            r.warehouse_id,
            r.variant_id,
            rules.available(r.on_hand, r.reserved, r.safety_stock),
            rules.backorder_room(r.backorder_allowed, r.backorder_limit, r.backordered),
        )
        for r in rows
    ]
    return allocation.allocate(
        demand, supplies, list(sites.values()), req.delivery_pincode, req.delivery_state_code
    )


def _new_reservation(
    req: reservation_service_pb2.ReserveStockRequest, body: str, ttl: int, now: datetime
) -> ReservationRecord:
    return ReservationRecord(
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
            view = None
            if not self.db.is_sqlite:
                view = await self._reserve_if_fits(req, demand, ttl, body)
            if view is None:
                view = await self._reserve(req, demand, ttl, body)
        except IntegrityError:
            # A concurrent duplicate committed first (unique request_id): answer with it.
            existing = await self._by_request(req.request_id)
            if existing is None:
                raise
            view = self._replay(existing, body)
        return view

    async def _by_request(self, request_id: str) -> ReservationView | None:
        """The reservation with this request id, with its lines (one SELECT)."""
        if not self.db.is_sqlite:
            return _view(await self.db.fetch(repo.PG_RESERVATION_BY_REQUEST, request_id))
        async with self.db.session() as s:
            return await _read(s, repo.RESERVATION_BY_REQUEST, {"request_id": request_id})

    def _replay(self, existing: ReservationView, body: str) -> ReservationView:
        if existing.reservation.body_hash != body:
            RESERVATIONS.labels("idempotency_mismatch").inc()
            raise FailedPrecondition(
                "request_id was already used for a different reservation",
                reason="IDEMPOTENCY_MISMATCH",
                metadata={"request_id": existing.reservation.request_id},
            )
        RESERVATIONS.labels("replayed").inc()
        return existing

    async def _reserve_if_fits(
        self,
        req: reservation_service_pb2.ReserveStockRequest,
        demand: dict[str, int],
        ttl: int,
        body: str,
    ) -> ReservationView | None:
        """PostgreSQL's first try, without BEGIN/COMMIT: ONE statement
        (repo.PG_RESERVE_BEST) that reserves everything in the best-ranked warehouse
        able to ship every line, if there is one; when there is none it returns the
        stock rows instead, allocation splits them here and ONE more statement
        (repo.PG_RESERVE_IF_FITS) writes the plan. Either writes only if every planned
        row, locked, still has the units and the low-stock ledger has nothing to do.
        None: nothing written, take the locking path (short of stock, backorders, a
        reorder point reached, or the rows changed under the plan)."""
        now = self.clock()
        res = _new_reservation(req, body, ttl, now)
        reservation = (
            res.id,
            res.request_id,
            res.body_hash,
            res.delivery_pincode,
            res.delivery_state_code,
            res.expire_time,
            now,
        )
        rows = await self.db.fetch(
            repo.PG_RESERVE_BEST,
            *reservation,
            list(demand),
            list(demand.values()),
            [new_id() for _ in demand],
        )
        outcome = rows[0]
        if outcome.best is not None:
            plan = [allocation.Allocated(v, outcome.best, q, 0) for v, q in demand.items()]
        else:
            stock = [r for r in rows if r.id is not None]
            try:
                plan = _allocate(stock, demand, req)
            except allocation.OutOfStock:
                return None
            if any(a.backordered for a in plan):
                return None
            stock_ids = {(r.variant_id, r.warehouse_id): r.id for r in stock}
            outcome = (
                await self.db.fetch(
                    repo.PG_RESERVE_IF_FITS,
                    *reservation,
                    [new_id() for _ in plan],
                    [stock_ids[(a.variant_id, a.warehouse_id)] for a in plan],
                    [a.variant_id for a in plan],
                    [a.warehouse_id for a in plan],
                    [a.quantity for a in plan],
                )
            )[0]
        if not outcome.fits:
            return None
        if outcome.reserved_id is None:  # a reservation with this request_id exists
            existing = await self._by_request(req.request_id)
            return None if existing is None else self._replay(existing, body)
        RESERVATIONS.labels("reserved").inc()
        return ReservationView(
            res, [LineRecord(a.variant_id, a.warehouse_id, a.quantity, 0) for a in plan]
        )

    async def _reserve(
        self,
        req: reservation_service_pb2.ReserveStockRequest,
        demand: dict[str, int],
        ttl: int,
        body: str,
    ) -> ReservationView:
        async with self.db.transaction() as s:
            rows = (await s.execute(repo.LOCK_VARIANT_STOCKS, {"ids": list(demand)})).all()
            now = self.clock()
            try:
                plan = _allocate(rows, demand, req)
            except allocation.OutOfStock as exc:
                # A retry of a reservation that took the last units replays it. (The
                # stock locks are held: a concurrent duplicate has committed by now.)
                existing = await _read(
                    s, repo.RESERVATION_BY_REQUEST, {"request_id": req.request_id}
                )
                if existing is not None:
                    return self._replay(existing, body)
                RESERVATIONS.labels("out_of_stock").inc()
                raise FailedPrecondition(
                    f"not enough stock for {', '.join(exc.variant_ids)}",
                    reason="OUT_OF_STOCK",
                    metadata={"variant_ids": ",".join(exc.variant_ids)},
                ) from None
            res = _new_reservation(req, body, ttl, now)
            lines = [
                LineRecord(a.variant_id, a.warehouse_id, a.quantity, a.backordered) for a in plan
            ]
            stocks = {(r.variant_id, r.warehouse_id): r for r in rows}
            taken = [(stocks[(a.variant_id, a.warehouse_id)], a) for a in plan]
            # Low-stock alerts (Ledger.settle): the new flag per row, events of a dip.
            alerts = [_low_stock(st, st.reserved + a.quantity) for st, a in taken]
            write = self._write_pg if s.bind.dialect.name == "postgresql" else self._write
            if not await write(s, res, taken, [low for low, _ in alerts], now):
                # A duplicate was there first: answer with it.
                existing = await _read(
                    s, repo.RESERVATION_BY_REQUEST, {"request_id": req.request_id}
                )
                if existing is None:  # pragma: no cover - the conflict says it exists
                    raise IntegrityError("reservation request_id", None, Exception("conflict"))
                return self._replay(existing, body)
            for _, event in alerts:
                if event is not None:
                    await self.outbox.add(s, LOW_STOCK_TOPIC, event)
                    LOW_STOCK_ALERTS.inc()
            backorders = [
                {
                    "id": new_id(),
                    "reservation_id": res.id,
                    "variant_id": a.variant_id,
                    "warehouse_id": a.warehouse_id,
                    "quantity": a.backordered,
                    "allocated_quantity": 0,
                    "state": "OPEN",
                    "create_time": now,
                }
                for a in plan
                if a.backordered
            ]
            if backorders:
                await s.execute(repo.INSERT_BACKORDERS, backorders)
        RESERVATIONS.labels("reserved").inc()
        return ReservationView(res, lines)

    async def _write(
        self,
        s: AsyncSession,
        res: ReservationRecord,
        taken: list[tuple[Any, allocation.Allocated]],
        alerted: list[bool],
        now: datetime,
    ) -> bool:
        """The reservation, its lines and its stock rows' holds; False (nothing
        written) when its request_id exists."""
        inserted = await s.execute(
            repo.INSERT_RESERVATION[s.bind.dialect.name],
            {
                "id": res.id,
                "request_id": res.request_id,
                "body_hash": res.body_hash,
                "state": res.state,
                "delivery_pincode": res.delivery_pincode,
                "delivery_state_code": res.delivery_state_code,
                "expire_time": res.expire_time,
                "create_time": now,
                "update_time": now,
            },
        )
        if inserted.first() is None:
            return False
        await s.execute(
            repo.INSERT_LINES,
            [
                {
                    "id": new_id(),
                    "reservation_id": res.id,
                    "variant_id": a.variant_id,
                    "warehouse_id": a.warehouse_id,
                    "quantity": a.quantity,
                    "backordered_quantity": a.backordered,
                }
                for _, a in taken
            ],
        )
        await s.execute(
            repo.RESERVE_STOCK_ROW,
            [
                {
                    "stock_id": st.id,
                    "add_reserved": a.quantity,
                    "add_backordered": a.backordered,
                    "alerted": flag,
                    "now": now,
                }
                for (st, a), flag in zip(taken, alerted, strict=True)
            ],
        )
        return True

    async def _write_pg(
        self,
        s: AsyncSession,
        res: ReservationRecord,
        taken: list[tuple[Any, allocation.Allocated]],
        alerted: list[bool],
        now: datetime,
    ) -> bool:
        """`_write` in one statement (repo.PG_RESERVE)."""
        inserted = await s.execute(
            repo.PG_RESERVE,
            {
                "id": res.id,
                "request_id": res.request_id,
                "body_hash": res.body_hash,
                "delivery_pincode": res.delivery_pincode,
                "delivery_state_code": res.delivery_state_code,
                "expire_time": res.expire_time,
                "now": now,
                "line_ids": [new_id() for _ in taken],
                "stock_ids": [st.id for st, _ in taken],
                "variant_ids": [a.variant_id for _, a in taken],
                "warehouse_ids": [a.warehouse_id for _, a in taken],
                "quantities": [a.quantity for _, a in taken],
                "backordered": [a.backordered for _, a in taken],
                "alerted": alerted,
            },
        )
        return inserted.first() is not None

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
        rid = id_of(name, "reservations")
        now = self.clock()
        if not self.db.is_sqlite:
            done = await self._commit_simple_pg(rid, now)
            if done is not None:
                return done
        async with self.db.session() as s:
            current = await _read(s, repo.RESERVATION_BY_ID, {"id": rid})
            if current is None:
                raise not_found("reservation", name)
            res = current.reservation
            if res.state == "COMMITTED":
                return current  # committing again is harmless
            # A hold without backorders: its lines cannot change (only backorder fills
            # edit lines), so the ones just read are the ones to sell.
            simple = (
                res.state == "HELD"
                and res.expire_time > now
                and not any(ln.backordered_quantity for ln in current.lines)
            )
            if simple and not self.db.is_sqlite:
                done = await self._commit_held_pg(s, current, now)
                if done is not None:
                    return done
                simple = False
        if simple:
            done = await self._commit_held(current, now)
            if done is not None:
                return done
        # Backorders, a lapsed or released hold, or a race lost: lock, then read.
        return await self._commit_locked(name)

    async def _commit_simple_pg(self, rid: str, now: datetime) -> ReservationView | None:
        """PostgreSQL's first try: a hold without backorders committed, read included,
        in ONE autocommit statement (repo.PG_COMMIT_SIMPLE); None: nothing changed."""
        rows = await self.db.fetch(
            repo.PG_COMMIT_SIMPLE,
            rid,
            now,
            [new_id() for _ in range(repo.COMMIT_SIMPLE_MAX_LINES)],
            actor(),
            f"reservations/{rid}"[:64],
        )
        return _view(rows)

    @staticmethod
    def _committed(current: ReservationView, now: datetime) -> ReservationView:
        res = current.reservation
        committed = ReservationRecord(
            res.id,
            res.request_id,
            res.body_hash,
            "COMMITTED",
            res.delivery_pincode,
            res.delivery_state_code,
            res.expire_time,
            res.create_time,
            now,
        )
        return ReservationView(committed, current.lines)

    async def _commit_held(self, current: ReservationView, now: datetime) -> ReservationView | None:
        """Commit a hold without backorders; None if it stopped holding meanwhile."""
        res = current.reservation
        async with self.db.transaction() as s:
            done = await s.execute(repo.COMMIT_HELD, {"reservation_id": res.id, "now": now})
            if done.first() is None:
                return None  # released, expired or committed meanwhile
            who = actor()
            sold = [
                {
                    "b_variant_id": ln.variant_id,
                    "b_warehouse_id": ln.warehouse_id,
                    "quantity": ln.quantity,
                    "delta": -ln.quantity,
                    "adjustment_id": new_id(),
                    "actor": who,
                    "reference": res.name[:64],
                    "now": now,
                }
                for ln in current.lines  # (variant_id, warehouse_id): the lock order
                if ln.quantity
            ]
            if sold:
                await s.execute(repo.SELL_STOCK_ROW, sold)
                await s.execute(repo.RECORD_SALE, sold)
        return self._committed(current, now)

    async def _commit_held_pg(
        self, s: AsyncSession, current: ReservationView, now: datetime
    ) -> ReservationView | None:
        """`_commit_held` on PostgreSQL: one statement (repo.PG_COMMIT_HELD) in the
        autocommit read session, so it commits on its own without BEGIN/COMMIT round
        trips (the explicit commit covers a session that is not autocommit)."""
        res = current.reservation
        sold = [ln for ln in current.lines if ln.quantity]
        done = await s.execute(
            repo.PG_COMMIT_HELD,
            {
                "reservation_id": res.id,
                "now": now,
                "variant_ids": [ln.variant_id for ln in sold],
                "warehouse_ids": [ln.warehouse_id for ln in sold],
                "quantities": [ln.quantity for ln in sold],
                "adjustment_ids": [new_id() for _ in sold],
                "actor": actor(),
                "reference": res.name[:64],
            },
        )
        adjusted = len(done.all())
        await _end_write(s)
        if not adjusted:
            return None  # released, expired or committed meanwhile: nothing changed
        if adjusted != len(sold):  # pragma: no cover - lines always have their stock rows
            log.error("committed hold sold fewer stock rows than it held", extra={"name": res.name})
        return self._committed(current, now)

    async def _commit_locked(self, name: str) -> ReservationView:
        """The general commit: lock the reservation, then its stock rows, then read."""
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
        if not self.db.is_sqlite:
            view = _view(await self.db.fetch(repo.PG_RESERVATION_BY_ID, rid))
        else:
            async with self.db.session() as s:
                view = await _read(s, repo.RESERVATION_BY_ID, {"id": rid})
        if view is None:
            raise not_found("reservation", name)
        return view

    # --- expiry sweeper ----------------------------------------------------------------

    async def sweep_once(self, limit: int = 100) -> int:
        """Release holds whose time ran out; the number released."""
        now = self.clock()
        async with self.db.session() as s:
            ids = list(await s.scalars(repo.LAPSED_HOLDS, {"now": now, "limit": limit}))
        released = 0
        for rid in ids:
            view = await self.release(f"reservations/{rid}", expired=True)
            released += view.reservation.state == "EXPIRED"
        if released:
            log.info("released lapsed holds", extra={"count": released})
        async with self.db.session() as s:
            held = await s.scalar(repo.COUNT_HELD)
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
        """Returned units back on hand (README "Returns").

        Against a reservation: it must be COMMITTED (held units never left on hand,
        released ones came back already); each variant's units go back to the
        warehouses it took them from, split by what each still has out
        (domain/returns.py), and count on its lines (`restocked_quantity`); more than
        is still out fails RESTOCK_EXCEEDS_RESERVATION, nothing put back. With
        `warehouse` too, the units go into that warehouse but still count against
        the reservation. Without a reservation, into `warehouse`, unchecked.

        Idempotent on request_id (the first response is stored with the change).
        The reservation row is locked first (then its stock rows, in order), so
        concurrent restocks against it run one after the other and the second sees
        what the first put back; a concurrent duplicate waits, then replays.
        """
        demand = _demand(list(req.lines))
        if not req.warehouse and not req.reservation:
            raise InvalidArgument({"warehouse": "give a warehouse or the reservation"})
        rid = id_of(req.reservation, "reservations", "reservation") if req.reservation else ""
        wid = warehouse_id_of(req.warehouse, "warehouse") if req.warehouse else ""
        key = f"restock:{req.request_id}"[:160]
        body = _hash(
            {"demand": demand, "res": req.reservation, "wh": req.warehouse, "note": req.note}
        )
        try:
            return await self._restock(req, demand, rid, wid, key, body)
        except IntegrityError:
            # A concurrent duplicate (no reservation to serialize on) stored its
            # response first: answer with it.
            async with self.db.session() as s:
                prior = await s.get(IdempotencyKey, key)
            if prior is None:
                raise
            return self._restock_replay(prior, body)

    @staticmethod
    def _restock_replay(
        prior: IdempotencyKey, body: str
    ) -> reservation_service_pb2.RestockReturnResponse:
        if prior.body_hash != body:
            raise FailedPrecondition(
                "request_id was already used for a different return",
                reason="IDEMPOTENCY_MISMATCH",
            )
        return reservation_service_pb2.RestockReturnResponse.FromString(prior.response)

    async def _restock(
        self,
        req: reservation_service_pb2.RestockReturnRequest,
        demand: dict[str, int],
        rid: str,
        wid: str,
        key: str,
        body: str,
    ) -> reservation_service_pb2.RestockReturnResponse:
        from services.inventory.servicer import adjustment_pb  # conversions live there

        async with self.db.transaction() as s:
            # The reservation's lock first: a concurrent restock against it (or a
            # duplicate of this one) has committed by the time it is granted.
            res = await repo.lock_reservation(s, rid) if rid else None
            prior = await s.get(IdempotencyKey, key)
            if prior is not None:
                return self._restock_replay(prior, body)
            if rid and res is None:
                raise not_found("reservation", req.reservation)
            if wid and await s.get(Warehouse, wid) is None:
                raise not_found("warehouse", req.warehouse)
            if res is not None:
                put_back = await self._count_back(s, res, demand)
            else:
                put_back = [(v, wid, q) for v, q in demand.items()]
            if wid:  # the units go into the named warehouse, whoever gave them
                into: dict[str, int] = defaultdict(int)
                for v, _, q in put_back:
                    into[v] += q
                put_back = [(v, wid, q) for v, q in sorted(into.items())]
            now = self.clock()
            stocks = await repo.lock_stocks(s, [(v, w) for v, w, _ in put_back])
            ledger = Ledger(s, self.outbox, now)
            out = reservation_service_pb2.RestockReturnResponse()
            for v, w, qty in put_back:  # (variant_id, warehouse_id) order
                st = stocks.get((v, w))
                if st is None:
                    st = Stock(variant_id=v, warehouse_id=w, update_time=now)
                    for f in ("on_hand", "reserved", "safety_stock", "reorder_point"):
                        setattr(st, f, 0)
                    st.backorder_allowed, st.backorder_limit = False, 0
                    st.backordered, st.in_transit, st.low_stock_alerted = 0, 0, False
                    s.add(st)
                    stocks[(v, w)] = st
                await ledger.bring_in(st, qty)
                adj = ledger.record(
                    st, qty, "RETURN_RESTOCK", note=req.note, reference=req.reservation
                )
                await s.flush()
                out.adjustments.append(adjustment_pb(adj))
            await ledger.settle(stocks.values())
            s.add(IdempotencyKey(key=key, body_hash=body, response=out.SerializeToString()))
        return out

    @staticmethod
    async def _count_back(
        s: AsyncSession, res: Reservation, demand: dict[str, int]
    ) -> list[tuple[str, str, int]]:
        """Where `demand` goes back among the warehouses the (locked) reservation took
        it from, counted on its lines: [(variant, warehouse, units)]."""
        if res.state != "COMMITTED":
            raise FailedPrecondition(
                f"reservation is {res.state.lower()}, not committed: nothing left on hand "
                "under it to put back (a held reservation is released instead)",
                reason="RESERVATION_NOT_COMMITTED",
                metadata={"state": res.state},
            )
        lines = {
            (ln.variant_id, ln.warehouse_id): ln for ln in await repo.reservation_lines(s, res.id)
        }
        unknown = sorted(set(demand) - {v for v, _ in lines})
        if unknown:
            raise InvalidArgument(
                [("lines", f"{v} was not part of the reservation") for v in unknown]
            )
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for (v, w), ln in lines.items():
            out[v][w] = ln.quantity - ln.restocked_quantity
        try:
            plan = returns.plan(demand, out)
        except returns.ExceedsReservation as exc:
            left = ", ".join(f"{v}: {n} of {q} asked" for v, (q, n) in exc.short.items())
            raise FailedPrecondition(
                f"more units than {res.name} has left to put back ({left})",
                reason="RESTOCK_EXCEEDS_RESERVATION",
                metadata={
                    "variant_ids": ",".join(exc.variant_ids),
                    "remaining": ",".join(f"{v}={n}" for v, (_, n) in exc.short.items()),
                },
            ) from None
        for v, w, q in plan:
            lines[(v, w)].restocked_quantity += q
        await s.flush()  # counted before the ledger re-reads lines (backorder fills)
        return plan

    # --- availability -------------------------------------------------------------------

    async def availability(
        self, variant_ids: list[str]
    ) -> availability_service_pb2.BatchGetAvailabilityResponse:
        if len(variant_ids) > MAX_BATCH:
            raise InvalidArgument({"variant_ids": f"at most {MAX_BATCH} ids"})
        totals: dict[str, list[int]] = {}
        ids = list(set(variant_ids))
        rows: Sequence[Any]
        if not self.db.is_sqlite:
            rows = await self.db.fetch(repo.PG_AVAILABILITY, ids)
        else:
            async with self.db.session() as s:
                rows = (await s.execute(repo.AVAILABILITY, {"ids": ids})).all()
        for vid, on_hand, reserved, safety, reorder, bo_ok, bo_limit, bo in rows:
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
