"""Queries and guarded counter updates, hiding SQLAlchemy from the handlers.

Coupon uses are counted with guarded UPDATEs: `times_reserved = times_reserved + 1
WHERE times_reserved < usage_limit` succeeds for exactly as many callers as there
are uses left, on PostgreSQL (the row lock the UPDATE takes serializes them, and
each re-checks the guard on the latest row) and on SQLite (BEGIN IMMEDIATE: one
writer at a time). The per-customer counter row is created with INSERT .. ON
CONFLICT DO NOTHING, then guarded the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing.models import (
    SETTINGS_ID,
    AutomaticDiscount,
    Coupon,
    CouponHold,
    CustomerCouponUse,
    FreeGiftRule,
    PricingSettingsRow,
    TierDiscount,
)


def page(stmt: Select, model: Any, after: str | None, limit: int) -> Select:
    if after:
        stmt = stmt.where(model.id > after)
    return stmt.order_by(model.id).limit(limit)


async def active_rules(
    s: AsyncSession,
) -> tuple[list[AutomaticDiscount], list[TierDiscount], list[FreeGiftRule]]:
    autos = (await s.scalars(select(AutomaticDiscount).where(AutomaticDiscount.active))).all()
    tiers = (await s.scalars(select(TierDiscount).where(TierDiscount.active))).all()
    gifts = (await s.scalars(select(FreeGiftRule).where(FreeGiftRule.active))).all()
    return list(autos), list(tiers), list(gifts)


async def coupons_by_code(s: AsyncSession, codes: Iterable[str]) -> dict[str, Coupon]:
    codes = sorted(set(codes))
    if not codes:
        return {}
    rows = await s.scalars(select(Coupon).where(Coupon.code.in_(codes)))
    return {c.code: c for c in rows}


async def listed_coupons(s: AsyncSession) -> list[Coupon]:
    rows = await s.scalars(select(Coupon).where(Coupon.listed, Coupon.active).order_by(Coupon.code))
    return list(rows)


async def customer_uses(
    s: AsyncSession, customer_id: str, coupon_ids: Sequence[str]
) -> dict[str, int]:
    if not customer_id or not coupon_ids:
        return {}
    rows = await s.execute(
        select(CustomerCouponUse.coupon_id, CustomerCouponUse.uses).where(
            CustomerCouponUse.customer_id == customer_id,
            CustomerCouponUse.coupon_id.in_(list(coupon_ids)),
        )
    )
    return {cid: uses for cid, uses in rows.all()}


async def orders_placed(s: AsyncSession, customer_id: str) -> int:
    """Committed holds of the customer: the orders placed that pricing knows of."""
    if not customer_id:
        return 0
    n = await s.scalar(
        select(func.count())
        .select_from(CouponHold)
        .where(CouponHold.customer_id == customer_id, CouponHold.state == "COMMITTED")
    )
    return int(n or 0)


async def lock_customer(s: AsyncSession, customer_id: str) -> None:
    """Serialize the holds of one customer until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed by the customer (READ
    COMMITTED alone lets two checkouts each miss the other's uncommitted hold and
    both take a first-order coupon). SQLite: nothing to do, `BEGIN IMMEDIATE`
    already admits one writer at a time. A hash collision only serializes two
    customers' holds, it never lets one through.
    """
    if customer_id and s.bind.dialect.name == "postgresql":
        await s.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"cleanse-pricing-customer:{customer_id}"},
        )


async def open_or_committed_first_order(s: AsyncSession, customer_id: str, hold_id: str) -> bool:
    """Another checkout of the customer already holds or committed (first-order race)."""
    n = await s.scalar(
        select(func.count())
        .select_from(CouponHold)
        .where(
            CouponHold.customer_id == customer_id,
            CouponHold.id != hold_id,
            or_(CouponHold.state == "COMMITTED", CouponHold.state == "HELD"),
        )
    )
    return bool(n)


# --- guarded counters ------------------------------------------------------------


async def take_coupon_use(s: AsyncSession, coupon_id: str) -> bool:
    """One more use of the coupon, if its total limit allows."""
    res = await s.execute(
        update(Coupon)
        .where(
            Coupon.id == coupon_id,
            or_(Coupon.usage_limit == 0, Coupon.times_reserved < Coupon.usage_limit),
        )
        .values(times_reserved=Coupon.times_reserved + 1)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1


async def take_customer_use(s: AsyncSession, coupon_id: str, customer_id: str, limit: int) -> bool:
    insert = postgresql.insert if s.bind.dialect.name == "postgresql" else sqlite.insert
    await s.execute(
        insert(CustomerCouponUse)
        .values(coupon_id=coupon_id, customer_id=customer_id, uses=0)
        .on_conflict_do_nothing()
    )
    guard = CustomerCouponUse.uses < limit if limit else True
    res = await s.execute(
        update(CustomerCouponUse)
        .where(
            and_(
                CustomerCouponUse.coupon_id == coupon_id,
                CustomerCouponUse.customer_id == customer_id,
                guard,
            )
        )
        .values(uses=CustomerCouponUse.uses + 1)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1


async def give_back(s: AsyncSession, coupon_ids: Sequence[str], customer_id: str) -> None:
    for cid in coupon_ids:
        await s.execute(
            update(Coupon)
            .where(Coupon.id == cid, Coupon.times_reserved > 0)
            .values(times_reserved=Coupon.times_reserved - 1)
            .execution_options(synchronize_session=False)
        )
        if customer_id:
            await s.execute(
                update(CustomerCouponUse)
                .where(
                    CustomerCouponUse.coupon_id == cid,
                    CustomerCouponUse.customer_id == customer_id,
                    CustomerCouponUse.uses > 0,
                )
                .values(uses=CustomerCouponUse.uses - 1)
                .execution_options(synchronize_session=False)
            )


async def mark_used(s: AsyncSession, coupon_ids: Sequence[str]) -> None:
    for cid in coupon_ids:
        await s.execute(
            update(Coupon)
            .where(Coupon.id == cid)
            .values(times_used=Coupon.times_used + 1)
            .execution_options(synchronize_session=False)
        )


# --- holds -------------------------------------------------------------------------


async def hold_by_request(s: AsyncSession, request_id: str) -> CouponHold | None:
    return await s.scalar(select(CouponHold).where(CouponHold.request_id == request_id))


async def lock_hold(s: AsyncSession, hold_id: str) -> CouponHold | None:
    return await s.scalar(
        select(CouponHold)
        .where(CouponHold.id == hold_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def lapsed_holds(s: AsyncSession, now: Any, limit: int) -> list[str]:
    rows = await s.scalars(
        select(CouponHold.id)
        .where(CouponHold.state == "HELD", CouponHold.expire_time <= now)
        .order_by(CouponHold.expire_time)
        .limit(limit)
    )
    return list(rows)


# --- settings ----------------------------------------------------------------------


async def pricing_settings(s: AsyncSession, *, lock: bool = False) -> PricingSettingsRow | None:
    """The settings row (migration 0003 creates it); `lock`: FOR UPDATE."""
    stmt = select(PricingSettingsRow).where(PricingSettingsRow.id == SETTINGS_ID)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return await s.scalar(stmt)
