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

from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import UTCDateTime
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


# --- Core statements for the checkout path -------------------------------------------
#
# Built once at import and run without the ORM unit of work: on the hold path the ORM
# machinery (flush, identity map, statement construction) cost about as much CPU as
# the round trips themselves.

HOLDS = CouponHold.__table__
COUPONS = Coupon.__table__

_HOLD_COLUMNS = (
    HOLDS.c.id,
    HOLDS.c.request_id,
    HOLDS.c.body_hash,
    HOLDS.c.customer_id,
    HOLDS.c.state,
    HOLDS.c.codes,
    HOLDS.c.coupon_ids,
    HOLDS.c.breakdown,
    HOLDS.c.expire_time,
    HOLDS.c.create_time,
    HOLDS.c.update_time,
)
HOLD_BY_ID = select(*_HOLD_COLUMNS).where(HOLDS.c.id == bindparam("hold_id"))
HOLD_BY_REQUEST = select(*_HOLD_COLUMNS).where(HOLDS.c.request_id == bindparam("request_id"))


def _insert_hold(dialect_insert: Any) -> Any:
    """A new hold unless its request_id exists: the id comes back only if inserted (on
    PostgreSQL a concurrent uncommitted duplicate makes it wait for that outcome)."""
    return (
        dialect_insert(HOLDS)
        .on_conflict_do_nothing(index_elements=[HOLDS.c.request_id])
        .returning(HOLDS.c.id)
    )


INSERT_HOLD = {
    "postgresql": _insert_hold(postgresql.insert),
    "sqlite": _insert_hold(sqlite.insert),
}

# CommitCouponHold: HELD -> COMMITTED (locks the hold row), its coupon ids back.
COMMIT_HELD = (
    update(HOLDS)
    .where(HOLDS.c.id == bindparam("hold_id"), HOLDS.c.state == "HELD")
    .values(state="COMMITTED", update_time=bindparam("now"))
    .returning(*_HOLD_COLUMNS)
)
MARK_USED = (
    update(COUPONS)
    .where(COUPONS.c.id.in_(bindparam("coupon_ids", expanding=True)))
    .values(times_used=COUPONS.c.times_used + 1)
)


# Every active promotion rule and the stacking cap in ONE round trip (the price path
# reloads them every rules_cache_seconds): rows of (kind, the RuleColumns..., cap),
# kind "automatic" / "tier" / "gift", and one "settings" row carrying the cap.
def _rules(kind: str, table: Any) -> Select:
    return select(
        literal_column(f"'{kind}'").label("kind"),
        table.c.id,
        table.c.spec,
        table.c.active,
        table.c.created_by,
        table.c.create_time,
        table.c.update_time,
        cast(null(), Integer).label("cap"),
    ).where(table.c.active.is_(True))


_SETTINGS = PricingSettingsRow.__table__
ACTIVE_RULES_AND_CAP = union_all(
    _rules("automatic", AutomaticDiscount.__table__),
    _rules("tier", TierDiscount.__table__),
    _rules("gift", FreeGiftRule.__table__),
    select(
        literal_column("'settings'"),
        _SETTINGS.c.id,
        cast(null(), JSON),
        literal_column("true", Boolean),
        literal_column("''", String),
        cast(null(), UTCDateTime),
        _SETTINGS.c.update_time,
        _SETTINGS.c.stacking_cap_bp,
    ).where(_SETTINGS.c.id == SETTINGS_ID),
)


# --- PostgreSQL through the driver (Database.fetch, mesh/db.py) -----------------------
#
# The hold path's single statements on PostgreSQL, run straight on asyncpg
# (`Database.fetch`, autocommit): `$n` parameters, each cast to its type. JSON travels as
# text both ways (json.dumps in, `::text` out and json.loads), whatever codecs the
# connection has.

# A new hold unless its request_id exists (INSERT_HOLD): $1 id, $2 request_id,
# $3 body_hash, $4 customer_id, $5 state, $6 codes (JSON text), $7 coupon_ids (JSON
# text), $8 breakdown, $9 expire_time, $10 now. The id comes back only if inserted.
PG_INSERT_HOLD = """
INSERT INTO coupon_holds (id, request_id, body_hash, customer_id, state, codes, coupon_ids,
    breakdown, expire_time, create_time, update_time)
VALUES ($1::varchar, $2::varchar, $3::varchar, $4::varchar, $5::varchar, $6::text::json,
    $7::text::json, $8::bytea, $9::timestamptz, $10::timestamptz, $10::timestamptz)
ON CONFLICT (request_id) DO NOTHING
RETURNING id
"""

# CommitCouponHold as ONE statement (COMMIT_HELD, then MARK_USED): the hold's row is
# locked and committed first, then its coupons' times_used counted (a hold's coupon
# ids are distinct). Nothing back: not held. $1 hold id, $2 now.
PG_COMMIT_HELD = """
WITH h AS (
    UPDATE coupon_holds SET state = 'COMMITTED', update_time = $2::timestamptz
    WHERE id = $1::varchar AND state = 'HELD'
    RETURNING *
), used AS (
    UPDATE coupons SET times_used = coupons.times_used + 1
    WHERE coupons.id IN (SELECT json_array_elements_text(h.coupon_ids) FROM h)
)
SELECT id, request_id, body_hash, customer_id, state, codes::text AS codes,
    coupon_ids::text AS coupon_ids, breakdown, expire_time, create_time, update_time
FROM h
"""
