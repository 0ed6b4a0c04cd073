"""The output of a price calculation: an explained breakdown, all in paise."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from services.pricing.domain.model import Source


class Rejection(IntEnum):
    """Why a coupon did not apply (values match cleanse.pricing.v1.CouponRejection)."""

    NONE = 0
    NOT_FOUND = 1
    INACTIVE = 2
    NOT_STARTED = 3
    EXPIRED = 4
    MIN_CART_VALUE = 5
    EXHAUSTED = 6
    CUSTOMER_LIMIT = 7
    FIRST_ORDER_ONLY = 8
    SEGMENT = 9
    LOGIN_REQUIRED = 10
    NO_ELIGIBLE_ITEMS = 11
    NOT_COMBINABLE = 12
    NO_SAVINGS = 13


class ProgressKind(IntEnum):
    TIER = 1
    FREE_GIFT = 2
    FREE_SHIPPING = 3


@dataclass(frozen=True)
class Discount:
    source: Source
    rule: str
    title: str
    amount: int
    code: str = ""
    capped: bool = False


@dataclass(frozen=True)
class Tax:
    taxable_value: int = 0
    cgst: int = 0
    sgst: int = 0
    igst: int = 0

    @property
    def total(self) -> int:
        return self.cgst + self.sgst + self.igst

    def __add__(self, other: Tax) -> Tax:
        return Tax(
            self.taxable_value + other.taxable_value,
            self.cgst + other.cgst,
            self.sgst + other.sgst,
            self.igst + other.igst,
        )


@dataclass(frozen=True)
class Line:
    variant_id: str
    quantity: int
    unit_price: int
    unit_mrp: int
    gross: int
    discounts: tuple[Discount, ...]
    net: int
    gst_rate_bp: int
    tax_rule: str
    tax: Tax
    total: int
    product_id: str = ""
    sku: str = ""
    title: str = ""
    hsn_code: str = ""
    gift_rule: str = ""
    product_title: str = ""
    variant_title: str = ""

    @property
    def discount_total(self) -> int:
        return sum(d.amount for d in self.discounts)

    @property
    def free_gift(self) -> bool:
        return bool(self.gift_rule)


@dataclass(frozen=True)
class CouponOutcome:
    code: str
    applied: bool
    coupon: str = ""  # "coupons/{id}" when it exists
    rejection: Rejection = Rejection.NONE
    message: str = ""
    savings: int = 0


@dataclass(frozen=True)
class Shipping:
    fee: int
    base_fee: int
    source: str
    free_reason: str = ""
    tax: Tax = Tax()  # the GST inside `fee`
    gst_rate_bp: int = 0

    @property
    def free(self) -> bool:
        return self.fee == 0


@dataclass(frozen=True)
class Progress:
    kind: ProgressKind
    rule: str
    title: str
    threshold: int
    remaining: int
    message: str
    percent_bp: int = 0


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[Line, ...]
    discounts: tuple[Discount, ...]
    coupons: tuple[CouponOutcome, ...]
    shipping: Shipping
    payment_fee: int
    subtotal: int
    mrp_total: int
    tax: Tax  # the whole bill's: lines + shipping.tax + payment_fee_tax
    total: int
    registered_state: str
    place_of_supply: str
    inter_state: bool
    prices_include_tax: bool
    progress: tuple[Progress, ...] = ()
    payment_method_available: bool = True
    messages: tuple[str, ...] = ()
    currency: str = "INR"
    applied_codes: tuple[str, ...] = field(default=())
    payment_fee_tax: Tax = Tax()  # the GST inside `payment_fee`
    payment_fee_gst_rate_bp: int = 0

    @property
    def discount_total(self) -> int:
        return sum(d.amount for d in self.discounts)
