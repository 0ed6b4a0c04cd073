"""Coupon holds through checkout: hold (idempotent), commit, release, expiry sweep.

HoldCoupons prices the cart afresh (catalog read uncached), then in ONE write
transaction takes a use of every coupon that applied through guarded UPDATEs
(repository), and stores the hold with the breakdown it was taken at. Any use
that cannot be taken rolls the whole transaction back: nothing is held.

The transaction first locks the customer (repository.lock_customer), so the
first-order check ("no other checkout of this customer held or committed") sees
every other hold of the customer committed or not started: two checkouts racing
with two different first-order coupons cannot both pass.

Round trips (a checkout calls HoldCoupons and CommitCouponHold once each):

- The hold is inserted ON CONFLICT (request_id) DO NOTHING: nothing back means a
  hold with that request id exists, and the request replays it. So the request-id
  lookup only runs on a conflict, or when pricing the cart failed or refused a code
  (a retry must replay the first answer even if a coupon is now used up or a
  dependency is down), never on the way to a new hold.
- A hold without coupons takes no use and needs no lock (a first-order check only
  looks for other holds of the customer; a hold without coupons never checks): it
  is that one INSERT, which on PostgreSQL runs on its own in autocommit.
- CommitCouponHold on PostgreSQL is one statement (the hold HELD -> COMMITTED, then
  its coupons' times_used), also in autocommit.
- On PostgreSQL those single statements go straight to the driver
  (Database.fetch, mesh/db.py): no session, no SQLAlchemy Connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.pricing.v1 import breakdown_pb2, coupon_hold_service_pb2
from mesh.db import Database, new_id, utcnow
from mesh.errors import FailedPrecondition, NotFound, Violations
from mesh.resources import require_name
from observability.metrics import counter
from services.pricing import convert
from services.pricing import repository as repo
from services.pricing.config import Settings
from services.pricing.domain import model as d
from services.pricing.domain.result import Breakdown, Rejection
from services.pricing.handlers.common import Clock, body_hash, cart_lines
from services.pricing.handlers.quote import Quoter
from services.pricing.models import CouponHold

log = logging.getLogger("cleanse.pricing.holds")
HOLDS = counter("coupon_holds_total", "Coupon hold attempts by outcome.", ["outcome"])


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A coupon_holds row as read by a Core statement (CouponHold has the same
    attributes)."""

    id: str
    request_id: str
    body_hash: str
    customer_id: str
    state: str
    codes: list[str]
    coupon_ids: list[str]
    breakdown: bytes
    expire_time: datetime
    create_time: datetime
    update_time: datetime

    @property
    def name(self) -> str:
        return f"couponHolds/{self.id}"


@dataclass(frozen=True)
class HoldView:
    hold: CouponHold | HoldRecord
    # A new hold: the response message with its breakdown already built in place
    # (servicer.hold_pb fills in the rest); otherwise the breakdown is parsed from
    # the row.
    message: coupon_hold_service_pb2.CouponHold | None = None

    @property
    def breakdown(self) -> breakdown_pb2.PriceBreakdown:
        if self.message is not None:
            return self.message.breakdown
        return breakdown_pb2.PriceBreakdown.FromString(self.hold.breakdown)


def _record(row: Any, *, json_as_text: bool = False) -> HoldRecord:
    """A hold row as a HoldRecord; `json_as_text` for a row of repo.PG_COMMIT_HELD,
    whose JSON columns come back as text."""
    codes, coupon_ids = (
        (json.loads(row.codes), json.loads(row.coupon_ids))
        if json_as_text
        else (list(row.codes), list(row.coupon_ids))
    )
    return HoldRecord(
        row.id,
        row.request_id,
        row.body_hash,
        row.customer_id,
        row.state,
        codes,
        coupon_ids,
        row.breakdown,
        row.expire_time,
        row.create_time,
        row.update_time,
    )


def _refusal(b: Breakdown) -> tuple[str, FailedPrecondition] | None:
    """A code asked for that did not apply fails the hold (the order must not charge
    a price the customer did not see): (metrics outcome, the error)."""
    for o in b.coupons:
        if o.applied:
            continue
        if o.rejection == Rejection.EXHAUSTED:
            return "exhausted", FailedPrecondition(
                o.message, reason="COUPON_EXHAUSTED", metadata={"code": o.code}
            )
        if o.rejection == Rejection.CUSTOMER_LIMIT:
            return "customer_limit", FailedPrecondition(
                o.message, reason="COUPON_CUSTOMER_LIMIT", metadata={"code": o.code}
            )
        return "not_applicable", FailedPrecondition(
            o.message,
            reason="COUPON_NOT_APPLICABLE",
            metadata={"code": o.code, "rejection": o.rejection.name},
        )
    return None


class HoldHandlers:
    def __init__(self, db: Database, quoter: Quoter, settings: Settings, clock: Clock = utcnow):
        self.db = db
        self.quoter = quoter
        self.settings = settings
        self.clock = clock

    async def _by_request(self, request_id: str) -> HoldRecord | None:
        async with self.db.session() as s:
            row = (await s.execute(repo.HOLD_BY_REQUEST, {"request_id": request_id})).first()
        return None if row is None else _record(row)

    def _replay(self, existing: HoldRecord, body: str) -> HoldView:
        if existing.body_hash != body:
            HOLDS.labels("idempotency_mismatch").inc()
            raise FailedPrecondition(
                "request_id was already used for a different hold",
                reason="IDEMPOTENCY_MISMATCH",
                metadata={"request_id": existing.request_id},
            )
        HOLDS.labels("replayed").inc()
        return HoldView(existing)

    async def hold(
        self, req: coupon_hold_service_pb2.HoldCouponsRequest, customer_id: str
    ) -> HoldView:
        v = Violations()
        v.check(len(req.request_id) <= 128, "request_id", "at most 128 characters")
        v.check(
            0 <= req.ttl_seconds <= self.settings.max_hold_ttl_seconds,
            "ttl_seconds",
            f"must be between 0 and {self.settings.max_hold_ttl_seconds}",
        )
        v.raise_if_any()
        ttl = req.ttl_seconds or self.settings.hold_ttl_seconds
        lines = cart_lines(req.cart)
        body = body_hash(req.cart, customer_id, ttl, lines)
        try:
            inp = await self.quoter.inputs(req.cart, customer_id, fresh=True, lines=lines)
            b = await self.quoter.price(inp, req.cart, fresh=True)
            refused = _refusal(b)
        except Exception:
            # A retry replays the first answer whatever pricing says now.
            existing = await self._by_request(req.request_id)
            if existing is None:
                raise
            return self._replay(existing, body)
        if refused is not None:
            existing = await self._by_request(req.request_id)
            if existing is not None:
                return self._replay(existing, body)
            outcome, error = refused
            HOLDS.labels(outcome).inc()
            raise error
        try:
            return await self._take(req.request_id, body, inp, b, ttl)
        except IntegrityError:
            existing = await self._by_request(req.request_id)  # a racing duplicate won
            if existing is None:
                raise
            return self._replay(existing, body)

    async def _take(
        self, request_id: str, body: str, inp: d.PricingInput, b: Breakdown, ttl: int
    ) -> HoldView:
        applied = [inp.rules.coupons[code] for code in b.applied_codes]
        cid = inp.customer.id
        now = self.clock()
        # Built once, in place in the response (no copy), and stored as its bytes.
        message = coupon_hold_service_pb2.CouponHold()
        convert.fill_breakdown(message.breakdown, b)
        hold = HoldRecord(
            id=new_id(),
            request_id=request_id,
            body_hash=body,
            customer_id=cid,
            state="HELD",
            codes=[c.code for c in applied],
            coupon_ids=[c.id for c in applied],
            breakdown=message.breakdown.SerializeToString(),
            expire_time=now + timedelta(seconds=ttl),
            create_time=now,
            update_time=now,
        )
        row = {
            "id": hold.id,
            "request_id": hold.request_id,
            "body_hash": hold.body_hash,
            "customer_id": hold.customer_id,
            "state": hold.state,
            "codes": hold.codes,
            "coupon_ids": hold.coupon_ids,
            "breakdown": hold.breakdown,
            "expire_time": hold.expire_time,
            "create_time": now,
            "update_time": now,
        }
        if not applied and not self.db.is_sqlite:
            inserted = await self.db.fetch(
                repo.PG_INSERT_HOLD,
                hold.id,
                hold.request_id,
                hold.body_hash,
                hold.customer_id,
                hold.state,
                json.dumps(hold.codes),
                json.dumps(hold.coupon_ids),
                hold.breakdown,
                hold.expire_time,
                now,
            )
            new = bool(inserted)
        elif not applied:
            async with self.db.transaction() as s:
                inserted = await s.execute(repo.INSERT_HOLD[s.bind.dialect.name], row)
                new = inserted.first() is not None
        else:
            async with self.db.transaction() as s:
                await repo.lock_customer(s, cid)
                inserted = await s.execute(repo.INSERT_HOLD[s.bind.dialect.name], row)
                new = inserted.first() is not None
                if new:
                    for c in applied:
                        await self._take_one(s, c, cid, hold.id)
        if not new:  # a hold with this request id was there first: answer with it
            existing = await self._by_request(request_id)
            if existing is None:  # pragma: no cover - the conflict says it exists
                raise IntegrityError("coupon hold request_id", None, Exception("conflict"))
            return self._replay(existing, body)
        HOLDS.labels("held").inc()
        return HoldView(hold, message)

    async def _take_one(self, s: AsyncSession, c: d.Coupon, cid: str, hold_id: str) -> None:
        if not await repo.take_coupon_use(s, c.id):
            HOLDS.labels("exhausted").inc()
            raise FailedPrecondition(
                f"{c.code} has been fully redeemed",
                reason="COUPON_EXHAUSTED",
                metadata={"code": c.code},
            )
        if cid and not await repo.take_customer_use(s, c.id, cid, c.per_customer_limit):
            HOLDS.labels("customer_limit").inc()
            raise FailedPrecondition(
                f"you have already used {c.code}",
                reason="COUPON_CUSTOMER_LIMIT",
                metadata={"code": c.code},
            )
        if c.first_order_only and await repo.open_or_committed_first_order(s, cid, hold_id):
            raise FailedPrecondition(
                f"{c.code} is for your first order only",
                reason="COUPON_NOT_APPLICABLE",
                metadata={"code": c.code, "rejection": "FIRST_ORDER_ONLY"},
            )

    async def _locked(self, s: AsyncSession, name: str) -> CouponHold:
        hold = await repo.lock_hold(s, require_name(name, "couponHolds"))
        if hold is None:
            raise NotFound(f"{name} not found")
        return hold

    async def commit(self, name: str) -> HoldView:
        """HELD -> COMMITTED. A hold past its expiry that the sweeper has not released
        yet still commits: its uses were never given back."""
        hid = require_name(name, "couponHolds")
        now = self.clock()
        if self.db.is_sqlite:
            async with self.db.transaction() as s:
                row = (await s.execute(repo.COMMIT_HELD, {"hold_id": hid, "now": now})).first()
                if row is not None and row.coupon_ids:
                    await s.execute(repo.MARK_USED, {"coupon_ids": list(row.coupon_ids)})
            if row is not None:
                return HoldView(_record(row))
        else:
            rows = await self.db.fetch(repo.PG_COMMIT_HELD, hid, now)
            if rows:
                return HoldView(_record(rows[0], json_as_text=True))
        # Not held (committed already, released, expired) or not there.
        async with self.db.transaction() as s:
            hold = await self._locked(s, name)
            if hold.state == "COMMITTED":
                return HoldView(hold)
            if hold.state != "HELD":
                raise FailedPrecondition(
                    f"the hold is {hold.state.lower()}",
                    reason="HOLD_NOT_HELD",
                    metadata={"state": hold.state},
                )
            await repo.mark_used(s, list(hold.coupon_ids))
            hold.state = "COMMITTED"
            hold.update_time = self.clock()
        return HoldView(hold)

    async def release(self, name: str, *, expired: bool = False) -> HoldView:
        async with self.db.transaction() as s:
            hold = await self._locked(s, name)
            if hold.state == "COMMITTED":
                if expired:
                    return HoldView(hold)
                raise FailedPrecondition(
                    "a committed hold cannot be released", reason="HOLD_COMMITTED"
                )
            if hold.state == "HELD":
                await repo.give_back(s, list(hold.coupon_ids), hold.customer_id)
                hold.state = "EXPIRED" if expired else "RELEASED"
                hold.update_time = self.clock()
        return HoldView(hold)

    async def get(self, name: str) -> HoldView:
        hid = require_name(name, "couponHolds")
        async with self.db.session() as s:
            row = (await s.execute(repo.HOLD_BY_ID, {"hold_id": hid})).first()
        if row is None:
            raise NotFound(f"{name} not found")
        return HoldView(_record(row))

    async def sweep_once(self, limit: int = 100) -> int:
        """Release holds whose time ran out; how many were released."""
        async with self.db.session() as s:
            ids = await repo.lapsed_holds(s, self.clock(), limit)
        released = 0
        for hid in ids:
            view = await self.release(f"couponHolds/{hid}", expired=True)
            released += view.hold.state == "EXPIRED"
        if released:
            log.info("released lapsed coupon holds", extra={"count": released})
        return released

    async def sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("coupon hold sweep failed")
            await asyncio.sleep(self.settings.sweep_interval_seconds)
