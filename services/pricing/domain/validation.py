"""Checks on promotion rules an admin saves. Plain functions over protos' fields."""

from __future__ import annotations

import re
from typing import Any

from mesh.errors import Violations
from services.pricing.domain.coupons import CODE_RE
from services.pricing.domain.model import Kind

SEGMENT_RE = re.compile(r"^customerSegments/[A-Za-z0-9_-]{1,64}$")
ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
ELIGIBILITY_LISTS = (
    "product_ids",
    "variant_ids",
    "category_ids",
    "collection_ids",
    "brand_ids",
    "tags",
    "exclude_product_ids",
    "exclude_variant_ids",
    "exclude_category_ids",
    "exclude_collection_ids",
)
MAX_LIST = 500


def code(value: str, v: Violations, field: str) -> str:
    normalized = value.strip().upper()
    v.check(bool(CODE_RE.match(normalized)), field, "must be 3-32 letters and digits (no spaces)")
    return normalized


def money(m: Any, v: Violations, field: str, *, positive: bool = False) -> None:
    if m.amount_minor < 0 or (positive and m.amount_minor == 0):
        v.add(field, "must be positive" if positive else "must not be negative")
    if m.currency_code not in ("", "INR"):
        v.add(f"{field}.currency_code", "only INR is supported")


def window(msg: Any, v: Violations, prefix: str) -> None:
    if msg.HasField("start_time") and msg.HasField("end_time"):
        if msg.end_time.ToDatetime() <= msg.start_time.ToDatetime():
            v.add(f"{prefix}.end_time", "must be after start_time")


def eligibility(e: Any, v: Violations, field: str) -> None:
    for name in ELIGIBILITY_LISTS:
        values = list(getattr(e, name))
        if len(values) > MAX_LIST:
            v.add(f"{field}.{name}", f"at most {MAX_LIST} entries")
        for i, x in enumerate(values):
            if not ID_RE.match(x):
                v.add(f"{field}.{name}[{i}]", "is not a valid id")


def offer(msg: Any, v: Violations, prefix: str) -> None:
    kind = msg.kind
    if kind not in {k.value for k in Kind}:
        v.add(f"{prefix}.kind", "is required")
        return
    if kind == Kind.PERCENTAGE:
        v.check(
            0 < msg.percent_basis_points <= 10_000,
            f"{prefix}.percent_basis_points",
            "must be between 1 and 10000 (100%)",
        )
    if kind == Kind.FLAT:
        money(msg.amount, v, f"{prefix}.amount", positive=True)
    if kind == Kind.BUY_X_GET_Y:
        b = msg.buy_x_get_y
        v.check(b.buy_quantity >= 1, f"{prefix}.buy_x_get_y.buy_quantity", "must be at least 1")
        v.check(b.get_quantity >= 1, f"{prefix}.buy_x_get_y.get_quantity", "must be at least 1")
        v.check(
            0 <= b.get_discount_basis_points <= 10_000,
            f"{prefix}.buy_x_get_y.get_discount_basis_points",
            "must be between 0 and 10000",
        )
        v.check(b.max_applications >= 0, f"{prefix}.buy_x_get_y.max_applications", "negative")
    money(msg.max_discount, v, f"{prefix}.max_discount")
    money(msg.min_cart_value, v, f"{prefix}.min_cart_value")
    window(msg, v, prefix)
    eligibility(msg.eligibility, v, f"{prefix}.eligibility")


def coupon(c: Any, v: Violations, prefix: str = "coupon") -> str:
    normalized = code(c.code, v, f"{prefix}.code")
    offer(c, v, prefix)
    v.check(c.usage_limit >= 0, f"{prefix}.usage_limit", "must not be negative")
    v.check(c.per_customer_limit >= 0, f"{prefix}.per_customer_limit", "must not be negative")
    v.check(len(c.description) <= 500, f"{prefix}.description", "at most 500 characters")
    v.check(len(c.combination_group) <= 40, f"{prefix}.combination_group", "at most 40 characters")
    for i, s in enumerate(c.customer_segments):
        field = f"{prefix}.customer_segments[{i}]"
        v.check(bool(SEGMENT_RE.match(s)), field, "must look like customerSegments/{id}")
    return normalized


def _title(msg: Any, v: Violations, prefix: str) -> None:
    v.check(0 < len(msg.title.strip()) <= 120, f"{prefix}.title", "1-120 characters")


def automatic(a: Any, v: Violations, prefix: str = "automatic_discount") -> None:
    _title(a, v, prefix)
    offer(a, v, prefix)
    v.check(a.min_quantity >= 0, f"{prefix}.min_quantity", "must not be negative")


def tier(t: Any, v: Violations, prefix: str = "tier_discount") -> None:
    _title(t, v, prefix)
    money(t.min_subtotal, v, f"{prefix}.min_subtotal", positive=True)
    v.check(
        0 < t.percent_basis_points <= 10_000,
        f"{prefix}.percent_basis_points",
        "must be between 1 and 10000",
    )
    money(t.max_discount, v, f"{prefix}.max_discount")
    window(t, v, prefix)


def gift(g: Any, v: Violations, prefix: str = "free_gift_rule") -> None:
    _title(g, v, prefix)
    money(g.min_subtotal, v, f"{prefix}.min_subtotal")
    v.check(bool(ID_RE.match(g.gift_variant_id)), f"{prefix}.gift_variant_id", "is required")
    v.check(0 <= g.gift_quantity <= 10, f"{prefix}.gift_quantity", "must be between 0 and 10")
    window(g, v, prefix)
