"""Coupon holds through checkout: hold (idempotent), commit, release, expiry sweep.

HoldCoupons prices the cart afresh (catalog read uncached), then in ONE write
transaction takes a use of every coupon that applied through guarded UPDATEs
(repository), and stores the hold with the breakdown it was taken at. Any use
that cannot be taken rolls the whole transaction back: nothing is held.

The transaction first locks the customer (repository.lock_customer), so the
first-order check ("no other checkout of this customer held or committed") sees
every other hold of the customer committed or not started: two checkouts racing
with two different first-order coupons cannot both pass.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cleanse.pricing.v1 import breakdown_pb2, coupon_hold_service_pb2
from mesh.db import Database, utcnow
from mesh.errors import FailedPrecondition, NotFound, Violations
from mesh.resources import require_name
from observability.metrics import counter
from services.pricing import convert
from services.pricing import repository as repo
from services.pricing.config import Settings
from services.pricing.domain import model as d
from services.pricing.domain.result import Breakdown, Rejection
from services.pricing.handlers.common import Clock, body_hash
from services.pricing.handlers.quote import Quoter
from services.pricing.models import CouponHold

log = logging.getLogger("cleanse.pricing.holds")
HOLDS = counter("coupon_holds_total", "Coupon hold attempts by outcome.", ["outcome"])


@dataclass(frozen=True)
class HoldView:
    hold: CouponHold

    @property
    def breakdown(self) -> breakdown_pb2.PriceBreakdown:
        return breakdown_pb2.PriceBreakdown.FromString(self.hold.breakdown)


def _refusal(b: Breakdown) -> None:
    """A code asked for that did not apply fails the hold (the order must not charge
    a price the customer did not see)."""
    for o in b.coupons:
        if o.applied:
            continue
        if o.rejection == Rejection.EXHAUSTED:
            HOLDS.labels("exhausted").inc()
            raise FailedPrecondition(
                o.message, reason="COUPON_EXHAUSTED", metadata={"code": o.code}
            )
        if o.rejection == Rejection.CUSTOMER_LIMIT:
            HOLDS.labels("customer_limit").inc()
            raise FailedPrecondition(
                o.message, reason="COUPON_CUSTOMER_LIMIT", metadata={"code": o.code}
            )
        HOLDS.labels("not_applicable").inc()
        raise FailedPrecondition(
            o.message,
            reason="COUPON_NOT_APPLICABLE",
            metadata={"code": o.code, "rejection": o.rejection.name},
        )


class HoldHandlers:
    def __init__(self, db: Database, quoter: Quoter, settings: Settings, clock: Clock = utcnow):
        self.db = db
        self.quoter = quoter
        self.settings = settings
        self.clock = clock

    async def _replay(self, existing: CouponHold, body: str) -> HoldView:
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
        body = body_hash(req.cart, customer_id, ttl)
        async with self.db.session() as s:
            existing = await repo.hold_by_request(s, req.request_id)
        if existing is not None:
            return await self._replay(existing, body)
        inp = await self.quoter.inputs(req.cart, customer_id, fresh=True)
        b = await self.quoter.price(inp, req.cart, fresh=True)
        _refusal(b)
        try:
            return await self._take(req.request_id, body, inp, b, ttl)
        except IntegrityError:
            async with self.db.session() as s:  # a concurrent duplicate committed first
                existing = await repo.hold_by_request(s, req.request_id)
            if existing is None:
                raise
            return await self._replay(existing, body)

    async def _take(
        self, request_id: str, body: str, inp: d.PricingInput, b: Breakdown, ttl: int
    ) -> HoldView:
        applied = [inp.rules.coupons[code] for code in b.applied_codes]
        cid = inp.customer.id
        now = self.clock()
        async with self.db.transaction() as s:
            await repo.lock_customer(s, cid)
            existing = await repo.hold_by_request(s, request_id)
            if existing is not None:
                return await self._replay(existing, body)
            hold = CouponHold(
                request_id=request_id,
                body_hash=body,
                customer_id=cid,
                state="HELD",
                codes=[c.code for c in applied],
                coupon_ids=[c.id for c in applied],
                breakdown=convert.breakdown(b).SerializeToString(),
                expire_time=now + timedelta(seconds=ttl),
                create_time=now,
                update_time=now,
            )
            s.add(hold)
            await s.flush()  # the unique request_id answers a racing duplicate here
            for c in applied:
                await self._take_one(s, c, cid, hold.id)
        HOLDS.labels("held").inc()
        return HoldView(hold)

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
        async with self.db.session() as s:
            hold = await s.get(CouponHold, require_name(name, "couponHolds"))
        if hold is None:
            raise NotFound(f"{name} not found")
        return HoldView(hold)

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
