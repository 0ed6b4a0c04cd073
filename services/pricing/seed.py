"""Demo promotions loaded on first start (CLEANSE_PRICING_SEED_DEMO=0 turns it off).

Only into an empty coupons table, so an admin's own promotions are left alone.
Variant and category ids are the demo catalogue's (services/catalog/demo):
"var_" + sku lower-cased, "cat_" + category slug.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cleanse.common.v1 import money_pb2
from cleanse.pricing.v1 import resources_pb2 as pb
from mesh.db import Database
from services.pricing import convert, models

ADMIN = "system:demo"


def _rs(rupees: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=rupees * 100, currency_code="INR")


COUPONS = [
    pb.Coupon(
        code="WELCOME10",
        description="10% off your first order (up to Rs 200)",
        kind=pb.DISCOUNT_KIND_PERCENTAGE,
        percent_basis_points=1000,
        max_discount=_rs(200),
        first_order_only=True,
        per_customer_limit=1,
        priority=10,
        active=True,
        listed=True,
    ),
    pb.Coupon(
        code="AYUR200",
        description="Rs 200 off orders over Rs 1,499",
        kind=pb.DISCOUNT_KIND_FLAT,
        amount=_rs(200),
        min_cart_value=_rs(1499),
        priority=5,
        active=True,
        listed=True,
    ),
    pb.Coupon(
        code="FREESHIP",
        description="Free shipping on any order",
        kind=pb.DISCOUNT_KIND_FREE_SHIPPING,
        combination_group="shipping",
        active=True,
        listed=True,
    ),
    pb.Coupon(
        code="NALPAM3",
        description="Nalpamaradi Tailam 100 ml: buy 2, get 1 free",
        kind=pb.DISCOUNT_KIND_BUY_X_GET_Y,
        buy_x_get_y=pb.BuyXGetY(buy_quantity=2, get_quantity=1),
        eligibility=pb.Eligibility(variant_ids=["var_van-nalp-100ml"]),
        combination_group="product",
        active=True,
        listed=True,
    ),
]

AUTOMATIC = [
    pb.AutomaticDiscount(
        title="Serum week: 10% off serums",
        kind=pb.DISCOUNT_KIND_PERCENTAGE,
        percent_basis_points=1000,
        eligibility=pb.Eligibility(category_ids=["cat_serums"]),
        priority=10,
        active=True,
        combines_with_coupons=True,
    ),
]

TIERS = [
    pb.TierDiscount(
        title="5% off over Rs 999", min_subtotal=_rs(999), percent_basis_points=500, active=True
    ),
    pb.TierDiscount(
        title="10% off over Rs 1,999",
        min_subtotal=_rs(1999),
        percent_basis_points=1000,
        active=True,
    ),
]

GIFTS = [
    pb.FreeGiftRule(
        title="Free neem wood comb over Rs 2,499",
        min_subtotal=_rs(2499),
        gift_variant_id="var_kay-nwcb-1",
        gift_quantity=1,
        active=True,
    ),
]


async def seed_demo(db: Database, now: datetime) -> bool:
    """Load the demo promotions into an empty database; True when it did."""
    try:
        async with db.transaction() as s:
            if await s.scalar(select(func.count()).select_from(models.Coupon)):
                return False
            for kind, items in (
                (models.Coupon, COUPONS),
                (models.AutomaticDiscount, AUTOMATIC),
                (models.TierDiscount, TIERS),
                (models.FreeGiftRule, GIFTS),
            ):
                for res in items:
                    row = kind(
                        spec=convert.spec_of(res),
                        active=res.active,
                        created_by=ADMIN,
                        create_time=now,
                        update_time=now,
                    )
                    if isinstance(row, models.Coupon):
                        row.code = res.code
                        row.listed = res.listed
                        row.usage_limit = res.usage_limit
                        row.per_customer_limit = res.per_customer_limit
                        row.times_reserved = row.times_used = 0
                    s.add(row)
    except IntegrityError:  # another replica seeded at the same moment
        return False
    return True
