"""The shipping charge of a cart: the shipping service's quote, the flat rate when it is down.

Whenever shipping is up (and the cart has a delivery PIN code), the charge is the
STANDARD option of `ShippingInternalService.QuoteShipping` (peers.Peers.shipping_quote)
for the cart's parcel:

- weight: the sum over lines of the catalog's `VariantSnapshot.weight_grams` x
  quantity; a variant with no weight recorded (0) counts `DEFAULT_UNIT_WEIGHT_GRAMS`
  (500 g, the shipping service's first weight step) per unit;
- order value: the merchandise total after discounts, in paise (the lines' totals,
  so Quoter prices the lines first to learn it, then settles shipping with the quote);
- the delivery PIN code and the payment method ("cod" asks for cash on delivery).

**Who owns the free-shipping threshold.** Exactly one side applies it. On a quote
from shipping, shipping does (its method's threshold decides, `option.rate` is 0 and
`free` set) and pricing does not apply settings' `free_shipping_threshold` again
(`Checkout.shipping_owns_threshold`). On the flat rate, pricing applies settings'
threshold as before. Free-shipping coupons and automatic discounts apply on top of
either (a coupon on an already free shipment is rejected as "no savings").
Settings' threshold is still what the storefront advertises (ListPromotions and the
"add Rs X more" progress): keep it equal to the STANDARD methods' thresholds (the
seeds both say Rs 499).

**COD fee.** When the payment method is "cod", the chosen option's `cod_fee` is the
fee if shipping quotes one (> 0), else the payment method's fee from settings; an
option that cannot collect cash (`cod_available=false`) makes COD unavailable for
the cart (`payment_method_available=false`, with a message). Settings' enable flag
and order value limits apply either way.

**Errors.** A PIN code shipping cannot deliver to is a business error for the
caller, not a reason to fall back: `FAILED_PRECONDITION` (`PINCODE_NOT_SERVICEABLE`,
metadata `pincode`); a PIN it does not know: `INVALID_ARGUMENT` on
`cart.delivery_pincode`. Shipping not answering (UNAVAILABLE, DEADLINE_EXCEEDED,
circuit open) degrades to the flat rate from settings (policy "shipping.flat_rate",
counted in mesh_degraded_calls_total), with settings' threshold and COD fee.
`breakdown.shipping.source` says which: the shipping method quoted ("methods/{id}")
or "flat_rate".

Successful quotes are cached `shipping_cache_seconds` (5 s) per (PIN, weight, order
value, payment method); HoldCoupons asks afresh. CLEANSE_PRICING_SHIPPING_QUOTES=0
turns the remote quote off (flat rate only).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from mesh import client
from mesh.cached import TtlCache
from services.pricing.domain import model as d

FLAT_RATE = "flat_rate"
SHIPPING = "shipping"  # the source of a quote from shipping naming no method
POLICY = "shipping.flat_rate"
# Per unit, for a variant whose catalog weight is 0 (not recorded).
DEFAULT_UNIT_WEIGHT_GRAMS = 500


@dataclass(frozen=True)
class QuoteLine:
    variant_id: str
    quantity: int
    unit_weight_grams: int  # as sent: the catalog's, or the default


@dataclass(frozen=True)
class QuoteRequest:
    pincode: str
    merchandise: int  # paise, after discounts
    weight_grams: int
    payment_method: str = ""
    lines: tuple[QuoteLine, ...] = ()


@dataclass(frozen=True)
class Quote:
    fee: int  # what the shipment costs (after shipping's threshold, when it is shipping's)
    source: str  # FLAT_RATE, or the shipping method quoted ("methods/{id}")
    base_fee: int = 0  # before free shipping
    free: bool = False  # shipping's threshold waived the fee
    cod_available: bool | None = None  # None: no word from shipping
    cod_fee: int | None = None  # None: settings' fee

    @property
    def owns_threshold(self) -> bool:
        return self.source != FLAT_RATE


RemoteQuote = Callable[[QuoteRequest], Awaitable[Quote]]


def unit_weight(v: d.Variant) -> int:
    return v.weight_grams if v.weight_grams > 0 else DEFAULT_UNIT_WEIGHT_GRAMS


def parcel(
    lines: Iterable[tuple[str, int]], variants: Mapping[str, d.Variant]
) -> tuple[int, tuple[QuoteLine, ...]]:
    """(total weight in grams, the lines as quoted) of a cart's merged lines."""
    out = tuple(QuoteLine(vid, qty, unit_weight(variants[vid])) for vid, qty in lines)
    return sum(ln.unit_weight_grams * ln.quantity for ln in out), out


def apply(checkout: d.Checkout, quote: Quote) -> d.Checkout:
    """The checkout priced with `quote` (see "Who owns the free-shipping threshold")."""
    return replace(
        checkout,
        shipping_fee=quote.fee,
        shipping_source=quote.source,
        shipping_owns_threshold=quote.owns_threshold,
        shipping_free=quote.free,
        shipping_base_fee=quote.base_fee,
        cod_available=quote.cod_available,
        cod_fee=quote.cod_fee,
    )


class ShippingQuotes:
    def __init__(self, remote: RemoteQuote | None = None, cache_seconds: float = 0.0) -> None:
        self.remote = remote
        self.cache = TtlCache(cache_seconds, max_entries=20_000) if cache_seconds > 0 else None

    @property
    def enabled(self) -> bool:
        return self.remote is not None

    async def quote(self, req: QuoteRequest, flat_rate: int, *, fresh: bool = False) -> Quote:
        flat = Quote(flat_rate, FLAT_RATE, base_fee=flat_rate)
        if self.remote is None or not req.pincode:
            return flat
        if self.cache is not None and not fresh:
            hit = self.cache.get(req)
            if hit is not None:
                return hit
        remote = self.remote
        got: Quote | None = await client.call_with_fallback(
            lambda: remote(req), lambda _exc: None, policy=POLICY
        )
        if got is None:
            return flat
        if self.cache is not None:
            self.cache.put(req, got)
        return got
