"""The inputs of a price calculation: snapshots from other services, and pricing's rules.

Plain frozen dataclasses; no I/O. The handlers build them from protos and rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from functools import cached_property

from mesh.gst import is_intra_state
from services.pricing.domain.money import BASIS_POINTS


class Kind(IntEnum):
    """What a rule takes off (values match cleanse.pricing.v1.DiscountKind)."""

    PERCENTAGE = 1
    FLAT = 2
    FREE_SHIPPING = 3
    BUY_X_GET_Y = 4


class Source(IntEnum):
    """Where a discount came from (values match cleanse.pricing.v1.DiscountSource)."""

    COUPON = 1
    AUTOMATIC = 2
    TIER = 3


@dataclass(frozen=True)
class Variant:
    """A catalog variant as pricing sees it (CatalogInternalService.BatchGetVariants)."""

    variant_id: str
    price: int  # tax-inclusive selling price, paise
    mrp: int = 0
    product_id: str = ""
    sku: str = ""
    title: str = ""
    hsn_code: str = ""
    tax_class: str = ""
    sellable: bool = True
    category_ids: frozenset[str] = frozenset()
    brand_id: str = ""
    collection_ids: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    weight_grams: int = 0  # one unit, as the catalog has it (0: not recorded)
    pieces_per_unit: int = 1  # pieces sold as one unit ("Pack of 2": 2), for GST slabs
    # The catalog's own titles (`title` joins them): passed on to the priced line.
    product_title: str = ""
    variant_title: str = ""


@dataclass(frozen=True)
class TaxRate:
    """A GST rule as settings resolved it for a variant's HSN code / tax class.

    `slabs` are the rule's price bands, (tax-inclusive unit price up to and including,
    0 = no bound; rate in basis points), in order. A slab-dependent rate (apparel: 5%
    up to Rs 2,625 a piece incl. GST, i.e. Rs 2,500 without) is chosen by the value per
    piece actually charged, after the line's discounts (`for_line`). Without slabs (an
    older settings answer) the rate is `basis_points` whatever the price.
    """

    basis_points: int  # 1800 = 18%: settings' answer at the list price
    rule: str = ""
    slabs: tuple[tuple[int, int], ...] = ()

    def for_line(self, net: int, pieces: int, *, inclusive: bool = True) -> int:
        """The rate of `pieces` pieces sold for `net` paise in all: the first slab whose
        bound admits the value per piece, compared exactly (no rounding of net / pieces).

        A bound is a tax-inclusive price: the law's threshold (a transaction value,
        without GST) plus the slab's own rate (Rs 2,625 = Rs 2,500 + 5%). So with
        tax-inclusive prices (`inclusive`) the net is compared as it is, net <= bound x
        pieces; with tax-exclusive prices the net IS the transaction value, and it is
        compared with the threshold the bound stands for: net x (1 + rate) <= bound x
        pieces, i.e. net x (10000 + rate) <= bound x 10000 x pieces (Rs 2,500.00 a piece
        is 5%, Rs 2,500.01 is 18%; comparing the net with the bound itself would tax
        Rs 2,500.01 to Rs 2,625 a piece at 5%).
        """
        for up_to, rate_bp in self.slabs:
            if up_to == 0:
                return rate_bp
            if inclusive:
                if net <= up_to * pieces:
                    return rate_bp
            elif net * (BASIS_POINTS + rate_bp) <= up_to * BASIS_POINTS * pieces:
                return rate_bp
        return self.slabs[-1][1] if self.slabs else self.basis_points


@dataclass(frozen=True)
class Eligibility:
    """Which lines a rule applies to (see cleanse.pricing.v1.Eligibility)."""

    product_ids: frozenset[str] = frozenset()
    variant_ids: frozenset[str] = frozenset()
    category_ids: frozenset[str] = frozenset()
    collection_ids: frozenset[str] = frozenset()
    brand_ids: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    exclude_product_ids: frozenset[str] = frozenset()
    exclude_variant_ids: frozenset[str] = frozenset()
    exclude_category_ids: frozenset[str] = frozenset()
    exclude_collection_ids: frozenset[str] = frozenset()

    @cached_property
    def restricted(self) -> bool:
        return bool(
            self.product_ids
            or self.variant_ids
            or self.category_ids
            or self.collection_ids
            or self.brand_ids
            or self.tags
        )

    @cached_property
    def excludes(self) -> bool:
        return bool(
            self.exclude_product_ids
            or self.exclude_variant_ids
            or self.exclude_category_ids
            or self.exclude_collection_ids
        )

    def matches(self, v: Variant) -> bool:
        if self.excludes and (
            v.product_id in self.exclude_product_ids
            or v.variant_id in self.exclude_variant_ids
            or v.category_ids & self.exclude_category_ids
            or v.collection_ids & self.exclude_collection_ids
        ):
            return False
        if not self.restricted:
            return True
        return bool(
            v.product_id in self.product_ids
            or v.variant_id in self.variant_ids
            or v.category_ids & self.category_ids
            or v.collection_ids & self.collection_ids
            or (v.brand_id and v.brand_id in self.brand_ids)
            or v.tags & self.tags
        )


ANY_ITEM = Eligibility()


@dataclass(frozen=True)
class Offer:
    """What a coupon or automatic discount takes off."""

    kind: Kind
    percent_bp: int = 0
    amount: int = 0  # FLAT, paise
    max_discount: int = 0  # 0 = no cap
    buy_quantity: int = 0
    get_quantity: int = 0
    get_discount_bp: int = 10_000
    max_applications: int = 0


@dataclass(frozen=True)
class Window:
    start: datetime | None = None
    end: datetime | None = None

    def open_at(self, now: datetime) -> bool:
        return (self.start is None or self.start <= now) and (self.end is None or now < self.end)


ALWAYS = Window()


@dataclass(frozen=True)
class Coupon:
    id: str
    code: str  # normalized: upper case
    offer: Offer
    description: str = ""
    min_cart_value: int = 0
    window: Window = ALWAYS
    usage_limit: int = 0  # 0 = unlimited
    per_customer_limit: int = 0
    first_order_only: bool = False
    segments: frozenset[str] = frozenset()
    eligibility: Eligibility = ANY_ITEM
    exclusive: bool = False
    group: str = "default"
    priority: int = 0
    active: bool = True
    listed: bool = False
    times_reserved: int = 0  # held + committed uses right now

    @property
    def rule(self) -> str:
        return f"coupons/{self.id}"


@dataclass(frozen=True)
class AutomaticDiscount:
    id: str
    title: str
    offer: Offer
    min_cart_value: int = 0
    min_quantity: int = 0
    window: Window = ALWAYS
    eligibility: Eligibility = ANY_ITEM
    priority: int = 0
    active: bool = True
    combines_with_coupons: bool = True

    @property
    def rule(self) -> str:
        return f"automaticDiscounts/{self.id}"


@dataclass(frozen=True)
class Tier:
    id: str
    title: str
    min_subtotal: int
    percent_bp: int
    max_discount: int = 0
    window: Window = ALWAYS
    active: bool = True

    @property
    def rule(self) -> str:
        return f"tierDiscounts/{self.id}"


@dataclass(frozen=True)
class GiftRule:
    id: str
    title: str
    min_subtotal: int
    variant_id: str
    quantity: int = 1
    window: Window = ALWAYS
    priority: int = 0
    active: bool = True

    @property
    def rule(self) -> str:
        return f"freeGiftRules/{self.id}"


@dataclass(frozen=True)
class Rules:
    """Pricing's own promotions, as loaded (coupons: those the cart names)."""

    coupons: Mapping[str, Coupon] = field(default_factory=dict)  # by code
    automatic: tuple[AutomaticDiscount, ...] = ()
    tiers: tuple[Tier, ...] = ()
    gifts: tuple[GiftRule, ...] = ()
    # Most all discounts together may take off the merchandise subtotal (basis points).
    stacking_cap_bp: int = 10_000


@dataclass(frozen=True)
class Customer:
    """Who the cart is priced for. id "" is a guest."""

    id: str = ""
    segments: frozenset[str] = frozenset()
    orders_placed: int = 0
    coupon_uses: Mapping[str, int] = field(default_factory=dict)  # coupon id -> held+committed

    @property
    def guest(self) -> bool:
        return not self.id


GUEST = Customer()


COD = "cod"  # the payment method code of cash on delivery (settings, shipping)


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    enabled: bool = True
    min_order_value: int = 0
    max_order_value: int = 0
    fee: int = 0
    display_name: str = ""


@dataclass(frozen=True)
class Checkout:
    """Settings (GetCheckoutConfig + place of supply) and the shipping quote."""

    registered_state: str
    place_of_supply: str
    prices_include_tax: bool = True
    shipping_fee: int = 0  # the quote before thresholds and free-shipping rules
    shipping_source: str = "flat_rate"
    free_shipping_threshold: int = 0  # 0 = none
    # A quote from the shipping service (services/pricing/shipping.py): shipping owns
    # the free-shipping threshold then, so pricing does not apply its own on top;
    # `shipping_free` says shipping waived the charge (`shipping_base_fee` before it).
    shipping_owns_threshold: bool = False
    shipping_free: bool = False
    shipping_base_fee: int = 0
    # COD as the shipping service quoted it: None = no word (settings decide).
    cod_available: bool | None = None
    cod_fee: int | None = None
    payment_methods: Mapping[str, PaymentMethod] = field(default_factory=dict)
    currency: str = "INR"

    @cached_property
    def inter_state(self) -> bool:
        return not is_intra_state(self.registered_state, self.place_of_supply)


@dataclass(frozen=True)
class PricingInput:
    lines: tuple[tuple[str, int], ...]  # (variant id, quantity), merged
    variants: Mapping[str, Variant]  # every line's variant and every gift variant
    tax_rates: Mapping[str, TaxRate]  # by variant id
    checkout: Checkout
    now: datetime
    rules: Rules = field(default_factory=Rules)
    coupon_codes: tuple[str, ...] = ()
    customer: Customer = GUEST
    payment_method: str = ""
    gift_stock: Mapping[str, int] = field(default_factory=dict)  # variant id -> available
