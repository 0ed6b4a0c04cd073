"""Whether a coupon can apply to a cart, and which coupons stack.

Checks run in a fixed order so the reason given is always the same for the same
cart: existence, active, window, total uses, login, customer uses, first order,
segment, minimum cart value, eligible items.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.pricing.domain.model import Coupon, Customer, Kind, PricingInput
from services.pricing.domain.money import rupees
from services.pricing.domain.offers import Slot
from services.pricing.domain.result import Rejection

CODE_RE = re.compile(r"^[A-Z0-9]{3,32}$")


def normalize_code(code: str) -> str:
    return code.strip().upper()


def normalize_codes(codes: Sequence[str]) -> tuple[str, ...]:
    """Upper case, blanks dropped, duplicates once, sorted: order never matters."""
    return tuple(sorted({normalize_code(c) for c in codes if c.strip()}))


@dataclass(frozen=True)
class Verdict:
    rejection: Rejection
    message: str

    @property
    def ok(self) -> bool:
        return self.rejection == Rejection.NONE


OK = Verdict(Rejection.NONE, "")


def _customer_checks(c: Coupon, customer: Customer) -> Verdict:
    if (c.per_customer_limit or c.first_order_only or c.segments) and customer.guest:
        return Verdict(Rejection.LOGIN_REQUIRED, f"sign in to use {c.code}")
    if c.per_customer_limit and customer.coupon_uses.get(c.id, 0) >= c.per_customer_limit:
        return Verdict(Rejection.CUSTOMER_LIMIT, f"you have already used {c.code}")
    if c.first_order_only and customer.orders_placed > 0:
        return Verdict(Rejection.FIRST_ORDER_ONLY, f"{c.code} is for your first order only")
    if c.segments and not (c.segments & customer.segments):
        return Verdict(Rejection.SEGMENT, f"{c.code} is not available on your account")
    return OK


def check(
    c: Coupon | None, code: str, inp: PricingInput, subtotal: int, eligible: list[Slot]
) -> Verdict:
    if c is None:
        return Verdict(Rejection.NOT_FOUND, f"{code} is not a valid coupon code")
    if not c.active:
        return Verdict(Rejection.INACTIVE, f"{code} is no longer available")
    if c.window.start is not None and inp.now < c.window.start:
        return Verdict(Rejection.NOT_STARTED, f"{code} is not valid yet")
    if c.window.end is not None and inp.now >= c.window.end:
        return Verdict(Rejection.EXPIRED, f"{code} has expired")
    if c.usage_limit and c.times_reserved >= c.usage_limit:
        return Verdict(Rejection.EXHAUSTED, f"{code} has been fully redeemed")
    who = _customer_checks(c, inp.customer)
    if not who.ok:
        return who
    if subtotal < c.min_cart_value:
        return Verdict(
            Rejection.MIN_CART_VALUE,
            f"add Rs {rupees(c.min_cart_value - subtotal)} more to use {code} "
            f"(minimum Rs {rupees(c.min_cart_value)})",
        )
    if c.offer.kind != Kind.FREE_SHIPPING or c.eligibility.restricted:
        units = sum(s.quantity for s in eligible)
        if units == 0:
            return Verdict(
                Rejection.NO_ELIGIBLE_ITEMS, f"no item in your cart qualifies for {code}"
            )
        if c.offer.kind == Kind.BUY_X_GET_Y:
            need = c.offer.buy_quantity + c.offer.get_quantity
            if units < need:
                return Verdict(
                    Rejection.NO_ELIGIBLE_ITEMS,
                    f"add {need - units} more qualifying item(s) to use {code}",
                )
    return OK


def stacking_order(coupons: Sequence[Coupon]) -> list[Coupon]:
    """Higher priority first, then code: the order coupons claim their place in."""
    return sorted(coupons, key=lambda c: (-c.priority, c.code))


def choose(valid: Sequence[Coupon]) -> tuple[list[Coupon], dict[str, str]]:
    """Which valid coupons stack: an exclusive coupon stands alone, and a combination
    group holds one coupon. Returns (chosen, {code: why it was left out})."""
    chosen: list[Coupon] = []
    left_out: dict[str, str] = {}
    for c in stacking_order(valid):
        if chosen and c.exclusive:
            left_out[c.code] = f"{c.code} cannot be combined with other coupons"
        elif chosen and chosen[0].exclusive:
            left_out[c.code] = f"{c.code} cannot be combined with {chosen[0].code}"
        elif any(x.group == c.group for x in chosen):
            other = next(x for x in chosen if x.group == c.group)
            left_out[c.code] = f"{c.code} cannot be combined with {other.code}"
        else:
            chosen.append(c)
    return chosen, left_out
